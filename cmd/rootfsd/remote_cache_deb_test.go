package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/rootfsd/rootfsd/deb/debtest"
	"github.com/rootfsd/rootfsd/store/remote/registrytest"
)

// debCacheArchive serves a signed debian:12 archive of two real .deb
// files and returns the global flags for it, the server and the .debs'
// SHA256s.
func debCacheArchive(t *testing.T) ([]string, *debtest.Server, []string) {
	t.Helper()
	key := debtest.NewKey(t, "rootfsd cache test archive", debtest.KeyOptions{})
	files := map[string][]byte{}
	var text strings.Builder
	var sums []string
	for _, p := range []struct{ name, version, depends, path, body string }{
		{"libc6", "2.36-9", "", "./lib/libc.so.6", "libc\n"},
		{"hello", "1.0-1", "libc6 (>= 2.36)", "./usr/bin/hello", "#!/bin/sh\necho hello\n"},
	} {
		dir := filepath.Dir(p.path) + "/"
		data := debtest.MakeDeb(t, debtest.Deb{Package: p.name, Version: p.version, Compression: ".gz",
			Data: []debtest.DebEntry{{Name: "./" + strings.Split(dir[2:], "/")[0] + "/", Type: '5'}, {Name: dir, Type: '5'}, {Name: p.path, Body: p.body, Mode: 0o755}}})
		pool := fmt.Sprintf("pool/main/%c/%s/%s_%s_amd64.deb", p.name[0], p.name, p.name, p.version)
		files[pool] = data
		sums = append(sums, debtest.Sum(data))
		fmt.Fprintf(&text, "Package: %s\nVersion: %s\nArchitecture: amd64\nMaintainer: Test <test@localhost>\n", p.name, p.version)
		if p.depends != "" {
			fmt.Fprintf(&text, "Depends: %s\n", p.depends)
		}
		fmt.Fprintf(&text, "Priority: optional\nFilename: %s\nSize: %d\nSHA256: %s\nDescription: %s\n\n", pool, len(data), debtest.Sum(data), p.name)
	}
	for i, suite := range []string{"bookworm", "bookworm-updates", "bookworm-security"} {
		pk := ""
		if i == 0 {
			pk = text.String()
		}
		r := &debtest.Repo{Suite: suite, Date: debtest.Epoch(), Arch: "amd64", Packages: map[string]string{"main": pk}, Signers: []*openpgp.Entity{key}}
		for p, b := range r.Build(t) {
			files[p] = b
		}
	}
	srv := debtest.Serve(t, files)
	kr := filepath.Join(t.TempDir(), "archive.gpg")
	if err := os.WriteFile(kr, debtest.PublicKeyring(t, key), 0o644); err != nil {
		t.Fatal(err)
	}
	return []string{"--mirror", srv.URL, "--security-mirror", srv.URL, "--keyring", kr}, srv, sums
}

// TestRegistryCachePackages: package files travel through the registry
// cache by SHA256. With the layer not in the registry (another trim) and
// the mirror closed, a build from the lock takes every package from the
// registry, verified against the lock, and skips the lock check with a
// warning; without a registry cache the same build fails closed.
func TestRegistryCachePackages(t *testing.T) {
	reg := registrytest.Start(t)
	g, srv, sums := debCacheArchive(t)
	dir := t.TempDir()
	cacheRef := "oci://" + reg.Host + "/ci/debs"
	lockFile := filepath.Join(dir, "rootfs.lock")
	cli := func(wantOK bool, cache string, args ...string) string {
		t.Helper()
		t0 := time.Now()
		_, stderr, code := runCLI(t, append(append([]string{"--cache-dir", filepath.Join(dir, cache), "--daemon", "never"}, g...), args...)...)
		t.Logf("%s: %v", cache, time.Since(t0).Round(time.Millisecond))
		if (code == 0) != wantOK {
			t.Fatalf("%s: exit %d: %s", strings.Join(args, " "), code, stderr)
		}
		return stderr
	}
	cli(true, "lock", "lock", "--distro", "debian:12", "--variant", "custom", "--pkgs", "hello", "-o", lockFile)
	cli(true, "A", "build", "--lock", lockFile, "--cache-to", cacheRef, "--plain-http", "--output", "tar:"+filepath.Join(dir, "a.tar"))
	cli(true, "ref", "build", "--lock", lockFile, "--trim", "none", "--output", "tar:"+filepath.Join(dir, "ref.tar"))
	want := sha256File(t, filepath.Join(dir, "ref.tar"))

	// A changed package blob is refused and fetched from the mirror.
	blob := reg.BlobPath(sums[0])
	orig, err := os.ReadFile(blob)
	if err != nil {
		t.Fatalf("libc6 was not pushed: %v", err)
	}
	bad := append([]byte(nil), orig...)
	bad[len(bad)-1] ^= 0xff
	if err := os.WriteFile(blob, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	stderr := cli(true, "tampered", "build", "--lock", lockFile, "--trim", "none", "--cache-from", cacheRef, "--plain-http", "--output", "tar:"+filepath.Join(dir, "t.tar"))
	if got := sha256File(t, filepath.Join(dir, "t.tar")); got != want || !strings.Contains(stderr, "libc6 2.36-9 refused") {
		t.Errorf("tampered package: tar %s, want %s; stderr:\n%s", got, want, stderr)
	}
	if err := os.WriteFile(blob, orig, 0o644); err != nil {
		t.Fatal(err)
	}

	srv.Close()
	// Fail closed without a registry cache: the lock cannot be checked.
	cli(false, "nocache", "build", "--lock", lockFile, "--trim", "none", "--output", "tar:"+filepath.Join(dir, "n.tar"))
	// Runner B: every package from the registry, verified by the lock.
	stderr = cli(true, "B", "build", "--lock", lockFile, "--trim", "none", "--cache-from", cacheRef, "--plain-http", "--verbose", "--output", "tar:"+filepath.Join(dir, "b.tar"))
	if got := sha256File(t, filepath.Join(dir, "b.tar")); got != want {
		t.Errorf("runner B: tar %s, want %s; stderr:\n%s", got, want, stderr)
	}
	for _, w := range []string{"lock check skipped", "hello from " + cacheRef, "libc6 from " + cacheRef} {
		if !strings.Contains(stderr, w) {
			t.Errorf("runner B's stderr lacks %q:\n%s", w, stderr)
		}
	}
}
