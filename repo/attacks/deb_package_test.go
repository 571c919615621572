package attacks_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/rootfsd/rootfsd/deb"
	"github.com/rootfsd/rootfsd/deb/debtest"
	"github.com/rootfsd/rootfsd/repo"
	"github.com/rootfsd/rootfsd/store"
)

// helloDeb is the pool path of the new snapshot's hello.
const helloDeb = "hello_2.0-1_amd64.deb"

// installHello is the usual victim: a build of hello from the release.
func installHello(t *testing.T, e *debEnv) error {
	_, tree, err := e.build(t, debRequest("hello"))
	if err == nil {
		if got := readTree(t, tree, "usr/bin/hello"); got != "#!/bin/sh\necho hello 2.0\n" {
			t.Errorf("installed hello is %q", got)
		}
	}
	return err
}

// TestAttackDebPackages: arbitrary packages, freeze and rollback, endless
// data and slow retrieval against the Debian backend.
func TestAttackDebPackages(t *testing.T) {
	newSnap := buildSnap(t, snapSpec{date: newDate, pkgs: newPkgs()})
	evilPkgs := newPkgs()
	evilPkgs[1].data = files("./usr/", "./usr/bin/", "./usr/bin/hello", "#!/bin/sh\necho pwned!!\n")
	evilUnsigned := buildSnap(t, snapSpec{date: newDate, pkgs: evilPkgs, signers: []*openpgp.Entity{keys().attacker}})
	runAttacks(t, "deb", []attack{
		{class: "control", name: "untampered mirror: hello 2.0 installs", defence: "-",
			run: func(t *testing.T) (string, error) {
				return "installed hello 2.0-1 and libc6", installHello(t, newDebEnv(t, newSnap.files))
			}},
		{class: "arbitrary package", name: ".deb with one byte changed", defence: "SHA256 from the signed Packages, checked by the store before the blob exists",
			want: []error{store.ErrDigestMismatch}, text: "hello",
			run: func(t *testing.T) (string, error) {
				e := newDebEnv(t, newSnap.files)
				e.proxy.on(helloDeb, flip(0.5))
				return "", installHello(t, e)
			}},
		{class: "arbitrary package", name: "another package's .deb in its place", defence: "Size from the signed Packages vs Content-Length",
			want: []error{repo.ErrSizeMismatch}, text: helloDeb,
			run: func(t *testing.T) (string, error) {
				e := newDebEnv(t, newSnap.files)
				e.proxy.on(helloDeb, replace(newSnap.debs["libc6"]))
				return "", installHello(t, e)
			}},
		{class: "arbitrary package", name: "evil .deb with Packages rewritten to match", defence: "Packages size and SHA256 from the signed Release",
			want: []error{deb.ErrHashMismatch, repo.ErrSizeMismatch}, text: "main/binary-amd64/Packages",
			run: func(t *testing.T) (string, error) {
				e := newDebEnv(t, newSnap.files)
				evil := debtest.Serve(t, evilUnsigned.files)
				e.proxy.on("/Packages.gz", e.proxy.from(evil.URL)).on("/Packages.xz", e.proxy.from(evil.URL)).on(helloDeb, e.proxy.from(evil.URL))
				return "", installHello(t, e)
			}},
		{class: "arbitrary package", name: "evil .deb with the whole index re-signed by the attacker", defence: "InRelease signature by the trusted archive keyring only",
			want: []error{deb.ErrSignature}, text: "InRelease",
			run: func(t *testing.T) (string, error) {
				e := newDebEnv(t, evilUnsigned.files)
				return "", installHello(t, e)
			}},
		{class: "arbitrary package", name: "InRelease edited, signature kept", defence: "OpenPGP signature over the Release text",
			want: []error{deb.ErrSignature}, text: "bookworm",
			run: func(t *testing.T) (string, error) {
				e := newDebEnv(t, newSnap.files)
				e.proxy.on("bookworm/InRelease", edit(func(b []byte) []byte { return bytes.Replace(b, []byte("Origin: Test"), []byte("Origin: Evil"), 1) }))
				return "", installHello(t, e)
			}},
		{class: "freeze", name: "old snapshot replayed after its Valid-Until", defence: "Valid-Until checked against the clock",
			want: []error{deb.ErrExpired}, text: "valid until",
			run: func(t *testing.T) (string, error) {
				old := buildSnap(t, snapSpec{date: oldDate, validUntil: oldDate.Add(7 * 24 * time.Hour), pkgs: oldPkgs()})
				return "", installHello(t, newDebEnv(t, old.files))
			}},
		{class: "freeze", name: "304 Not Modified for ever, after Valid-Until", defence: "a 304 re-verifies the cached InRelease, dates included",
			want: []error{deb.ErrExpired}, text: "valid until",
			run: func(t *testing.T) (string, error) {
				fresh := buildSnap(t, snapSpec{date: newDate, validUntil: newDate.Add(7 * 24 * time.Hour), pkgs: newPkgs()})
				e := newDebEnv(t, fresh.files)
				if err := installHello(t, e); err != nil {
					t.Fatalf("first build: %v", err)
				}
				e.clock = newDate.Add(8 * 24 * time.Hour)
				e.proxy.on("/InRelease", notModified())
				return "", installHello(t, e)
			}},
		{class: "rollback", name: "older validly signed snapshot after a newer one", defence: "Date recorded per suite in the cache; older is refused",
			want: []error{deb.ErrRollback}, text: "bookworm",
			run: func(t *testing.T) (string, error) {
				old := debtest.Serve(t, buildSnap(t, snapSpec{date: oldDate, pkgs: oldPkgs()}).files)
				e := newDebEnv(t, newSnap.files)
				if err := installHello(t, e); err != nil {
					t.Fatalf("first build: %v", err)
				}
				e.proxy.on("", e.proxy.from(old.URL))
				return "", installHello(t, e)
			}},
		{class: "endless data", name: "endless InRelease", defence: "16 MiB cap on InRelease",
			want: []error{repo.ErrTooLarge}, text: "InRelease",
			run: func(t *testing.T) (string, error) {
				e := newDebEnv(t, newSnap.files)
				e.proxy.on("bookworm/InRelease", endless([]byte("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n")))
				return "", installHello(t, e)
			}},
		{class: "endless data", name: "endless .deb", defence: "body capped at the signed Size",
			want: []error{repo.ErrTooLarge}, text: helloDeb,
			run: func(t *testing.T) (string, error) {
				e := newDebEnv(t, newSnap.files)
				e.proxy.on(helloDeb, endless(nil))
				return "", installHello(t, e)
			}},
		{class: "endless data", name: "endless Packages.gz", defence: "output capped at the uncompressed size the signed Release gives",
			want: []error{repo.ErrTooLarge, deb.ErrIndexTooLarge}, text: "Packages.gz",
			run: func(t *testing.T) (string, error) {
				e := newDebEnv(t, newSnap.files)
				e.proxy.on("bookworm/main/binary-amd64/Packages.gz", endlessGzip())
				return "", installHello(t, e)
			}},
		{class: "slow retrieval", name: "InRelease trickled at 30 bytes/s", defence: "minimum rate over a window",
			want: []error{repo.ErrTooSlow}, text: "bytes/s",
			run: func(t *testing.T) (string, error) {
				e := newDebEnv(t, newSnap.files)
				e.proxy.on("bookworm/InRelease", trickle(3, 100*time.Millisecond))
				return bounded(t, 3*time.Second, func() error { return installHello(t, e) })
			}},
		{class: "slow retrieval", name: "no response headers", defence: "header timeout",
			want: []error{repo.ErrTooSlow}, text: "no response headers",
			run: func(t *testing.T) (string, error) {
				e := newDebEnv(t, newSnap.files)
				e.proxy.on("bookworm-security/InRelease", stall())
				return bounded(t, 3*time.Second, func() error { return installHello(t, e) })
			}},
		{class: "slow retrieval", name: ".deb trickled at 160 bytes/s", defence: "minimum rate over a window",
			want: []error{repo.ErrTooSlow}, text: "hello",
			run: func(t *testing.T) (string, error) {
				e := newDebEnv(t, newSnap.files)
				e.proxy.on(helloDeb, trickle(16, 100*time.Millisecond))
				return bounded(t, 3*time.Second, func() error { return installHello(t, e) })
			}},
	})
}

// bounded runs fn and fails the case if it took longer than max: a slow
// attack must cost a bounded time, not just fail eventually.
func bounded(t *testing.T, max time.Duration, fn func() error) (string, error) {
	start := time.Now()
	err := fn()
	took := time.Since(start)
	if took > max {
		t.Errorf("took %v, more than %v", took.Round(time.Millisecond), max)
	}
	return "", err
}
