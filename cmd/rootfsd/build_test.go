package main

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rootfsd/rootfsd/apk/apktest"
)

// alpineFixtures returns the shared Alpine fixtures directory.
func alpineFixtures(t testing.TB) string { return apktest.FixturesDir(t) }

func sha256File(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

type tarEntry struct {
	hdr  *tar.Header
	data []byte
}

func readTar(t *testing.T, path string) map[string]tarEntry {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]tarEntry{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(tr)
		out[strings.TrimSuffix(h.Name, "/")] = tarEntry{h, data}
	}
}

// TestBuildAlpineTar builds the minirootfs world from the fixture ISO
// repository, as the CLI does, twice with different caches, and checks
// the tree and that the tar is byte-identical.
func TestBuildAlpineTar(t *testing.T) {
	srv := httptest.NewServer(http.FileServer(http.Dir(alpineFixtures(t))))
	defer srv.Close()
	dir := t.TempDir()
	build := func(cache, out string) {
		t.Helper()
		_, stderr, code := runCLI(t, "--cache-dir", cache, "build", "--distro", "alpine:3.19",
			"--repository", srv.URL+"/v3.19.1-iso/apks",
			"--pkgs", "alpine-baselayout,alpine-keys,apk-tools,busybox,libc-utils", "--output", "tar:"+out)
		if code != 0 {
			t.Fatalf("build: exit %d: %s", code, stderr)
		}
	}
	a, b := filepath.Join(dir, "a.tar"), filepath.Join(dir, "b.tar")
	build(filepath.Join(dir, "cache1"), a)
	build(filepath.Join(dir, "cache2"), b)
	if sha256File(t, a) != sha256File(t, b) {
		t.Fatal("two builds from different caches differ")
	}
	entries := readTar(t, a)
	links := 0
	for _, e := range entries {
		if e.hdr.Typeflag == tar.TypeSymlink && e.hdr.Linkname == "/bin/busybox" {
			links++
		}
	}
	if links < 300 {
		t.Errorf("%d busybox links, want the applets (303 in the golden rootfs)", links)
	}
	for _, p := range []string{"bin/busybox", "lib/apk/db/installed", "etc/apk/world", "etc/passwd", "etc/group", "lib/ld-musl-x86_64.so.1", "etc/apk/keys"} {
		if _, ok := entries[p]; !ok {
			t.Errorf("%s missing from the rootfs", p)
		}
	}
	if sh := entries["etc/shadow"]; sh.hdr == nil || sh.hdr.Mode&0o777 != 0o640 || !strings.HasPrefix(string(sh.data), "root:*:") {
		t.Errorf("etc/shadow not as alpine-baselayout's post-install leaves it")
	}
	installed := string(entries["lib/apk/db/installed"].data)
	for _, p := range []string{"P:busybox", "P:musl", "P:apk-tools", "P:alpine-baselayout-data"} {
		if !strings.Contains(installed, p+"\n") {
			t.Errorf("installed db lacks %s", p)
		}
	}
	if tmp := entries["tmp"]; tmp.hdr == nil || tmp.hdr.Mode&0o7777 != 0o1777 {
		t.Errorf("/tmp is not 1777")
	}
}

// TestSBOMCommand prints SBOMs of a lock and of a built rootfs tar.
func TestSBOMCommand(t *testing.T) {
	srv := httptest.NewServer(http.FileServer(http.Dir(alpineFixtures(t))))
	defer srv.Close()
	dir := t.TempDir()
	out, lock := filepath.Join(dir, "r.tar"), filepath.Join(dir, "r.lock")
	if _, stderr, code := runCLI(t, "--cache-dir", filepath.Join(dir, "c"), "build", "--distro", "alpine:3.19",
		"--repository", srv.URL+"/v3.19.1-iso/apks", "--pkgs", "busybox", "--output", "tar:"+out, "--write-lock", lock); code != 0 {
		t.Fatalf("build: %s", stderr)
	}
	for _, args := range [][]string{{"sbom", lock}, {"sbom", out}, {"sbom", "--sbom-format", "cyclonedx", out}} {
		stdout, stderr, code := runCLI(t, args...)
		if code != 0 || !strings.Contains(stdout, "pkg:apk/alpine/busybox@1.36.1-r15") {
			t.Errorf("%v: exit %d %s\n%.400s", args, code, stderr, stdout)
		}
	}
}
