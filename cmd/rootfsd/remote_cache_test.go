package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rootfsd/rootfsd/repo"
	"github.com/rootfsd/rootfsd/store/remote/registrytest"
)

// TestRegistryCacheRunners is issue 8's scenario: runner A builds a lock
// with an empty cache and pushes to a registry cache; runner B, with a
// fresh cache and the mirror gone, builds the same image from the
// registry alone. A changed blob in the registry is refused, and a
// registry that fails makes the build fall back to the mirror.
func TestRegistryCacheRunners(t *testing.T) {
	reg := registrytest.Start(t)
	mirror := httptest.NewServer(http.FileServer(http.Dir(alpineFixtures(t))))
	defer mirror.Close()
	dir := t.TempDir()
	cacheRef := "oci://" + reg.Host + "/ci/rootfsd-cache"
	lockFile := filepath.Join(dir, "rootfs.lock")
	if _, stderr, code := runCLI(t, "--cache-dir", filepath.Join(dir, "lockcache"), "--daemon", "never", "lock", "--distro", "alpine:3.19",
		"--repository", mirror.URL+"/v3.19.1-iso/apks", "--pkgs", "busybox,apk-tools", "-o", lockFile); code != 0 {
		t.Fatalf("lock: exit %d: %s", code, stderr)
	}
	build := func(name string, extra ...string) (image, stderr string) {
		t.Helper()
		image = filepath.Join(dir, name+".oci.tar")
		args := append([]string{"--cache-dir", filepath.Join(dir, "cache-"+name), "--daemon", "never"}, extra...)
		args = append(args, "build", "--lock", lockFile, "--output", "oci-archive:"+image)
		_, stderr, code := runCLI(t, args...)
		if code != 0 {
			t.Fatalf("runner %s: exit %d: %s", name, code, stderr)
		}
		return sha256File(t, image), stderr
	}

	want, _ := build("A", "--cache-to", cacheRef, "--plain-http")
	l, err := repo.ReadLock(lockFile)
	if err != nil {
		t.Fatal(err)
	}
	// The two largest blobs: the layer tar and its gzip form (what an
	// image-only build takes).
	blobs := largestBlobs(t, reg, 2)
	layerBlob := blobs[0]

	// Changed layer blobs are refused; the layer is built from the mirror.
	var origs [][]byte
	for _, b := range blobs {
		orig, err := os.ReadFile(b)
		if err != nil {
			t.Fatal(err)
		}
		origs = append(origs, orig)
		bad := bytes.Clone(orig)
		bad[len(bad)/2] ^= 0xff
		if err := os.WriteFile(b, bad, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, stderr := build("tampered", "--cache-from", cacheRef, "--plain-http")
	if got != want || strings.Count(stderr, "refused") < 2 {
		t.Errorf("tampered registry: image %s, want %s, both layer blobs refused; stderr:\n%s", got, want, stderr)
	}
	for i, b := range blobs {
		if err := os.WriteFile(b, origs[i], 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// A registry answering 500 is a warning, not a failure.
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "registry down", http.StatusInternalServerError)
	}))
	defer broken.Close()
	got, stderr = build("broken", "--cache-from", "oci://"+strings.TrimPrefix(broken.URL, "http://")+"/c", "--plain-http")
	if got != want || !strings.Contains(stderr, "500") {
		t.Errorf("failing registry: image %s, want %s; stderr:\n%s", got, want, stderr)
	}

	// A registry that hangs is a warning after --cache-timeout.
	release := make(chan struct{})
	hanging := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer hanging.Close()
	defer close(release)
	got, stderr = build("hanging", "--cache-from", "oci://"+strings.TrimPrefix(hanging.URL, "http://")+"/c", "--plain-http", "--cache-timeout", "300ms")
	if got != want || !strings.Contains(stderr, "registry cache oci://") {
		t.Errorf("hanging registry: image %s, want %s; stderr:\n%s", got, want, stderr)
	}

	// Runner B: fresh cache, no mirror.
	mirror.Close()
	got, stderr = build("B", "--cache-from", cacheRef, "--plain-http", "--verbose")
	if got != want || !strings.Contains(stderr, "(compressed) from "+cacheRef) || !strings.Contains(stderr, "(cached)") {
		t.Errorf("runner B: image %s, want %s (same lock, %d packages), the gzip layer and the check's findings from the registry; stderr:\n%s", got, want, len(l.Packages), stderr)
	}
	t.Logf("runner B:\n%s", stderr)
	if _, _, code := runCLI(t, "--cache-dir", filepath.Join(dir, "cache-B"), "--daemon", "never", "cache", "verify"); code != 0 {
		t.Errorf("runner B's cache does not verify")
	}
	// A tar output needs the layer itself: it comes from the registry too.
	tarFile := filepath.Join(dir, "C.tar")
	_, stderr, code := runCLI(t, "--cache-dir", filepath.Join(dir, "cache-C"), "--daemon", "never", "--cache-from", cacheRef, "--plain-http",
		"build", "--lock", lockFile, "--output", "tar:"+tarFile)
	if code != 0 {
		t.Fatalf("runner C: exit %d: %s", code, stderr)
	}
	if got, want := sha256File(t, tarFile), filepath.Base(filepath.Dir(layerBlob)); got != want {
		t.Errorf("runner C: tar %s, want the layer blob %s", got, want)
	}
}

// largestBlobs are the n largest blobs in the registry's storage, largest
// first.
func largestBlobs(t *testing.T, reg *registrytest.Registry, n int) []string {
	t.Helper()
	type blob struct {
		path string
		size int64
	}
	var all []blob
	err := filepath.Walk(reg.Root, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Name() == "data" && strings.Contains(p, "/blobs/") {
			all = append(all, blob{p, fi.Size()})
		}
		return err
	})
	if err != nil || len(all) < n {
		t.Fatalf("fewer than %d blobs in the registry (%v)", n, err)
	}
	slices.SortFunc(all, func(a, b blob) int { return int(b.size - a.size) })
	var out []string
	for _, b := range all[:n] {
		out = append(out, b.path)
	}
	return out
}

// TestBenchRegistryCache is `make bench`'s registry cache line: runner B
// (fresh cache, layer from the registry) against runner A's cold build
// (fresh cache, packages from the fixture mirror on 127.0.0.1, then the
// push). Run with ROOTFSD_BENCH=1.
func TestBenchRegistryCache(t *testing.T) {
	if os.Getenv("ROOTFSD_BENCH") != "1" {
		t.Skip("set ROOTFSD_BENCH=1 (make bench)")
	}
	reg := registrytest.Start(t)
	mirror := httptest.NewServer(http.FileServer(http.Dir(alpineFixtures(t))))
	defer mirror.Close()
	dir := t.TempDir()
	cacheRef := "oci://" + reg.Host + "/bench/cache"
	lockFile := filepath.Join(dir, "rootfs.lock")
	pkgs := "alpine-baselayout,alpine-keys,apk-tools,busybox,libc-utils,zlib"
	if _, stderr, code := runCLI(t, "--cache-dir", filepath.Join(dir, "lockcache"), "lock", "--distro", "alpine:3.19",
		"--repository", mirror.URL+"/v3.19.1-iso/apks", "--pkgs", pkgs, "-o", lockFile); code != 0 {
		t.Fatalf("lock: %s", stderr)
	}
	run := func(name string, extra ...string) time.Duration {
		args := append([]string{"--cache-dir", filepath.Join(dir, name), "-q"}, extra...)
		args = append(args, "build", "--lock", lockFile, "--output", "oci-archive:"+filepath.Join(dir, name+".tar"))
		t0 := time.Now()
		if _, stderr, code := runCLI(t, args...); code != 0 {
			t.Fatalf("%s: %s", name, stderr)
		}
		return time.Since(t0)
	}
	const rounds = 3
	var a, b []time.Duration
	for i := range rounds {
		a = append(a, run(fmt.Sprintf("A%d", i), "--cache-to", cacheRef, "--plain-http"))
		b = append(b, run(fmt.Sprintf("B%d", i), "--cache-from", cacheRef, "--plain-http"))
	}
	slices.Sort(a)
	slices.Sort(b)
	ma, mb := a[rounds/2], b[rounds/2]
	fmt.Printf("registry cache (%s, median of %d): runner A cold build + push %v, runner B from the registry %v, B/A = %.2f\n",
		pkgs, rounds, ma.Round(time.Millisecond), mb.Round(time.Millisecond), float64(mb)/float64(ma))
}
