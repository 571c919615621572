package main

import (
	"archive/tar"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// TestCacheExportImport moves a cache through a file, as a CI system's
// save and restore steps do: the whole cache rebuilds the image with no
// mirror; a --lock export carries the lock's packages, and a build from it
// downloads no package.
func TestCacheExportImport(t *testing.T) {
	var apks atomic.Int64
	files := http.FileServer(http.Dir(alpineFixtures(t)))
	mirror := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, ".apk") {
			apks.Add(1)
		}
		files.ServeHTTP(w, r)
	}))
	defer mirror.Close()
	dir := t.TempDir()
	lockFile := filepath.Join(dir, "rootfs.lock")
	cli := func(cache string, args ...string) string {
		t.Helper()
		out, stderr, code := runCLI(t, append([]string{"--cache-dir", filepath.Join(dir, cache), "--daemon", "never"}, args...)...)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", strings.Join(args, " "), code, stderr)
		}
		return out
	}
	cli("A", "lock", "--distro", "alpine:3.19", "--repository", mirror.URL+"/v3.19.1-iso/apks", "--pkgs", "busybox", "-o", lockFile)
	cli("A", "build", "--lock", lockFile, "--output", "tar:"+filepath.Join(dir, "a.tar"))
	want := sha256File(t, filepath.Join(dir, "a.tar"))

	full, part := filepath.Join(dir, "full.tar"), filepath.Join(dir, "part.tar")
	cli("A", "cache", "export", full)
	cli("A", "cache", "export", "--lock", lockFile, part)
	names := tarNames(t, part)
	if len(names) < 2 || names[0] != "index.json" {
		t.Fatalf("--lock export: %v", names)
	}
	if n := len(tarNames(t, full)); n <= len(names) {
		t.Errorf("full export has %d entries, --lock export %d: want more", n, len(names))
	}

	// The lock's packages only: the build downloads none.
	cli("B", "cache", "import", part)
	before := apks.Load()
	cli("B", "build", "--lock", lockFile, "--output", "tar:"+filepath.Join(dir, "b.tar"))
	if got := sha256File(t, filepath.Join(dir, "b.tar")); got != want {
		t.Errorf("build after a --lock import: %s, want %s", got, want)
	}
	if n := apks.Load() - before; n != 0 {
		t.Errorf("build after a --lock import downloaded %d packages", n)
	}

	// The whole cache, layer included: no mirror needed.
	mirror.Close()
	cli("C", "cache", "import", full)
	cli("C", "build", "--lock", lockFile, "--output", "tar:"+filepath.Join(dir, "c.tar"))
	if got := sha256File(t, filepath.Join(dir, "c.tar")); got != want {
		t.Errorf("build after a full import: %s, want %s", got, want)
	}
	cli("C", "cache", "verify")

	// A changed blob in the file is refused.
	bad := filepath.Join(dir, "bad.tar")
	data, err := os.ReadFile(part)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)-2048] ^= 0xff // inside the last blob's content
	if err := os.WriteFile(bad, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := runCLI(t, "--cache-dir", filepath.Join(dir, "D"), "--daemon", "never", "cache", "import", bad); code == 0 || !strings.Contains(stderr, "hashes to") {
		t.Errorf("import of a changed blob: exit %d: %s", code, stderr)
	}
}

func tarNames(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var names []string
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		names = append(names, h.Name)
	}
	return names
}
