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

// TestBuildChecksItsTree: the end-of-build check runs on the build's own
// tree while the layer is written, and finds what reading the output back
// finds; a build whose layer comes from the cache reads it back (or takes
// the findings kept from the first).
func TestBuildChecksItsTree(t *testing.T) {
	srv := httptest.NewServer(http.FileServer(http.Dir(alpineFixtures(t))))
	defer srv.Close()
	dir := t.TempDir()
	out := filepath.Join(dir, "r.tar")
	args := []string{"--cache-dir", filepath.Join(dir, "cache"), "-v", "build", "--distro", "alpine:3.19",
		"--repository", srv.URL + "/v3.19.1-iso/apks", "--pkgs", "busybox", "--entrypoint", "/usr/bin/no-such-program", "--output", "tar:" + out}
	_, stderr, code := runCLI(t, args...)
	if code != 0 {
		t.Fatalf("build: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "findings in the build's tree") {
		t.Errorf("the build did not check its tree:\n%s", stderr)
	}
	built := checkLines(stderr)
	if len(built) == 0 {
		t.Fatalf("no check findings for a missing entrypoint:\n%s", stderr)
	}
	_, cstderr, _ := runCLI(t, "check", out, "--entrypoint", "/usr/bin/no-such-program")
	cout, _, _ := runCLI(t, "check", "--format", "json", out, "--entrypoint", "/usr/bin/no-such-program")
	for _, f := range built {
		if !strings.Contains(cstderr+cout, f) {
			t.Errorf("the build found %q; reading the tar back did not:\n%s%s", f, cstderr, cout)
		}
	}
	_, stderr, code = runCLI(t, append(args[:len(args)-1:len(args)-1], "tar:"+filepath.Join(dir, "again.tar"))...)
	if code != 0 || strings.Contains(stderr, "findings in the build's tree") || len(checkLines(stderr)) != len(built) {
		t.Errorf("the cached build's check: exit %d\n%s", code, stderr)
	}
}

// checkLines are the "warning: check: ..." findings of a build, without
// the prefix.
func checkLines(stderr string) []string {
	var out []string
	for _, l := range strings.Split(stderr, "\n") {
		if m, ok := strings.CutPrefix(l, "warning: check: "); ok {
			out = append(out, m)
		}
	}
	return out
}
