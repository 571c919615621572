package sbom

import (
	"bufio"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rootfsd/rootfsd/apk/apktest"
	"github.com/rootfsd/rootfsd/repo"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// epoch is the fixed creation time of the test documents.
var epoch = time.Date(2026, 11, 21, 0, 45, 27, 0, time.UTC)

// noblePlan is a small ubuntu:24.04 plan with values from the noble
// archive, plus an epoch, "+" in names and versions, and a source package
// that differs from the binary.
func noblePlan() *repo.Plan {
	return &repo.Plan{
		Family: repo.FamilyDeb, Distro: "ubuntu:24.04", Arch: "amd64", Variant: repo.VariantBase,
		Packages: []repo.Planned{
			{Name: "libstdc++6", Version: "14-20240412-0ubuntu1", Arch: "amd64", Source: "gcc-14", SourceVersion: "14-20240412-0ubuntu1",
				Repository: "http://127.0.0.1:3142/ubuntu", Filename: "pool/main/g/gcc-14/libstdc++6_14-20240412-0ubuntu1_amd64.deb",
				SHA256: "1f1e0b4a7a31c0a4ac7b7b80f5a33b1e0b7b0d7f5e8e4a8d1f5f4e4f1e5f2a3b", Depends: []string{"libc6", "libgcc-s1"}, Reason: "requested"},
			{Name: "base-files", Version: "13ubuntu10", Arch: "amd64", Filename: "pool/main/b/base-files/base-files_13ubuntu10_amd64.deb",
				SHA256: "cd06729c776397bb74779773f4dece372a1a3f795e5992804022bffab0278ffb", Depends: []string{"libcrypt1", "mawk"}, Reason: "variant base"},
			{Name: "ca-certificates", Version: "20240203", Arch: "all", Filename: "pool/main/c/ca-certificates/ca-certificates_20240203_all.deb",
				SHA256: "641de77d8f142cfd62a1a6f964ba67b20754d3337c480efb529d086075a06c9a", Depends: []string{"openssl", "debconf", "debconf"}, Reason: "requested"},
			{Name: "libcrypt1", Version: "1:4.4.36-4build1", Arch: "amd64", Source: "libxcrypt",
				Filename: "pool/main/libx/libxcrypt/libcrypt1_4.4.36-4build1_amd64.deb",
				SHA256:   "6e4a5c8a1a1b40e7a3d5c0c6f2b8a66e9e6b5a2f0e0d3c1b2a3948576a6b7c8d", Licence: "custom", Reason: "Depends of base-files"},
			{Name: "debconf", Version: "1.5.86ubuntu1", Arch: "all", Filename: "pool/main/d/debconf/debconf_1.5.86ubuntu1_all.deb",
				SHA256: "bb390da466a7461bfc87aa3e6b7cd145dae84af3e26bf437f2c0c218ba226294", Licence: "BSD-2-Clause", Reason: "Depends of ca-certificates (debconf (>= 0.5) | debconf-2.0)"},
		},
	}
}

// fixturesDir is the shared Alpine fixtures directory (see apktest.Dir);
// the tests that need it skip without it.
func fixturesDir(t testing.TB) string {
	t.Helper()
	dir := apktest.Dir()
	if dir == "" {
		t.Skip("SKIP: Alpine fixtures not found (set ROOTFSD_FIXTURES)")
	}
	return dir
}

// alpinePlan builds a plan from the installed database of the real Alpine
// 3.19.4 minirootfs: names, versions, C:, L:, origins and dependencies as
// apk recorded them.
func alpinePlan(t testing.TB) *repo.Plan {
	t.Helper()
	f, err := os.Open(filepath.Join(fixturesDir(t), "golden", "minirootfs-3.19.4-x86_64", "installed"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := &repo.Plan{Family: repo.FamilyAPK, Distro: "alpine:3.19", Arch: "x86_64", Variant: repo.VariantBase}
	var cur *repo.Planned
	flush := func() {
		if cur != nil && cur.Name != "" {
			p.Packages = append(p.Packages, *cur)
		}
		cur = &repo.Planned{}
	}
	flush()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			flush()
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch k {
		case "P":
			cur.Name = v
		case "V":
			cur.Version = v
		case "A":
			cur.Arch = v
		case "C":
			cur.Checksum = v
		case "L":
			cur.Licence = v
		case "o":
			cur.Source = v
		case "D":
			for _, d := range strings.Fields(v) {
				name, _, _ := strings.Cut(d, "=")
				name, _, _ = strings.Cut(name, ">")
				name, _, _ = strings.Cut(name, "<")
				cur.Depends = append(cur.Depends, name)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	flush()
	if len(p.Packages) < 10 {
		t.Fatalf("installed database gave only %d packages", len(p.Packages))
	}
	return p
}

// decode unmarshals a document into a generic tree.
func decode(t testing.TB, data []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, data)
	}
	return m
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

func obj(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// golden compares got with testdata/name, rewriting it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != string(got) {
		t.Errorf("%s differs from the golden file (run go test -update after checking the change):\n%s", name, firstDiff(string(want), string(got)))
	}
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) && i < len(bl); i++ {
		if al[i] != bl[i] {
			return "line " + strconv.Itoa(i+1) + ":\n- " + al[i] + "\n+ " + bl[i]
		}
	}
	return "lengths differ"
}
