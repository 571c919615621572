package attacks_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/rootfsd/rootfsd/deb"
	"github.com/rootfsd/rootfsd/deb/debtest"
	"github.com/rootfsd/rootfsd/repo"
	"github.com/rootfsd/rootfsd/store"
)

// thirdParty is a signed extra repository (suite "stable") served below
// "thirdparty/" of the origin, and the source line that names it.
func thirdParty(t *testing.T, pkgs []debPkg) map[string][]byte {
	snap := buildSnap(t, snapSpec{date: newDate, pkgs: pkgs, suites: []string{"stable"}, signers: []*openpgp.Entity{keys().thirdParty}})
	out := map[string][]byte{}
	for p, b := range snap.files {
		out["thirdparty/"+p] = b
	}
	return out
}

func thirdPartySource(t *testing.T, e *debEnv) repo.Source {
	return repo.Source{URL: e.proxy.URL + "/thirdparty", Suite: "stable", Components: []string{"main"},
		SignedBy: string(debtest.ArmoredKeyring(t, keys().thirdParty))}
}

// TestAttackDebPolicy: a third-party source overriding the release,
// malicious index fields, compressed bombs and a poisoned shared cache.
func TestAttackDebPolicy(t *testing.T) {
	newSnap := buildSnap(t, snapSpec{date: newDate, pkgs: newPkgs()})
	extra := thirdParty(t, []debPkg{
		{name: "tool", version: "1.0", depends: "libc6 (>= 2.36)", data: files("./usr/", "./usr/bin/", "./usr/bin/tool", "tool")},
		{name: "libc6", version: "99.0", data: files("./lib/", "./lib/libc.so.6", "pwned libc")},
		{name: "evil-libc", version: "1.0", provides: "libc6 (= 100)", data: files("./lib/", "./lib/libc.so.6", "pwned libc")},
		{name: "tool2", version: "1.0", depends: "libc6 (>= 99)", data: files("./usr/", "./usr/bin/", "./usr/bin/tool2", "tool2")},
	})
	mirror := merge(newSnap.files, extra)
	withStanza := func(edit func(string) string) map[string][]byte {
		pkgs := newPkgs()
		pkgs[1].stanza = edit
		return buildSnap(t, snapSpec{date: newDate, pkgs: pkgs}).files
	}
	cases := []attack{
		{class: "third-party override", name: "extra source ships libc6 99, above the release's", defence: "source policy: a name the release serves comes from the release unless pinned",
			run: func(t *testing.T) (string, error) {
				e := newDebEnv(t, mirror)
				req := debRequest("tool")
				req.Sources = []repo.Source{thirdPartySource(t, e)}
				plan, tree, err := e.build(t, req)
				if err != nil {
					return "", err
				}
				libc := plan.Find("libc6")
				if libc == nil || libc.Version != "2.36-9+deb12u1" || libc.Suite != "bookworm" {
					t.Fatalf("libc6 in the plan: %+v", libc)
				}
				if got := readTree(t, tree, "lib/libc.so.6"); got != "libc 2.36-9+deb12u1" {
					t.Errorf("installed libc is %q", got)
				}
				return fmt.Sprintf("neutralised: plan keeps libc6 %s from %s; tool %s from stable", libc.Version, libc.Suite, plan.Find("tool").Version), nil
			}},
		{class: "third-party override", name: "libc6/stable pinned by the user", defence: "an explicit name/suite pin is the user's decision",
			run: func(t *testing.T) (string, error) {
				e := newDebEnv(t, mirror)
				req := debRequest("tool", "libc6/stable")
				req.Sources = []repo.Source{thirdPartySource(t, e)}
				plan, err := e.backend().Resolve(ctx(t), req)
				if err != nil {
					return "", err
				}
				if libc := plan.Find("libc6"); libc == nil || libc.Version != "99.0" {
					t.Fatalf("pinned libc6: %+v", libc)
				}
				return "accepted: pinned, libc6 99.0 from stable", nil
			}},
		{class: "third-party override", name: "extra source Provides: libc6 (= 100) for a versioned dependency", defence: "source policy applies to providers too",
			text: "libc6 (>= 99)", as: func(err error) bool { var u *repo.UnsatisfiableError; return errors.As(err, &u) },
			run: func(t *testing.T) (string, error) {
				e := newDebEnv(t, mirror)
				req := debRequest("tool2")
				req.Sources = []repo.Source{thirdPartySource(t, e)}
				_, err := e.backend().Resolve(ctx(t), req)
				return "", err
			}},
		{class: "third-party override", name: "extra source without signed-by", defence: "no repository is trusted without its own key",
			text: "has no signed-by key", as: anyError,
			run: func(t *testing.T) (string, error) {
				e := newDebEnv(t, mirror)
				src := thirdPartySource(t, e)
				src.SignedBy = ""
				req := debRequest("tool")
				req.Sources = []repo.Source{src}
				_, err := e.backend().Resolve(ctx(t), req)
				return "", err
			}},
		{class: "malicious field", name: "Filename: with .. in a signed index", defence: "Filename must be a clean relative path",
			text: "not a clean relative path", as: anyError,
			run: func(t *testing.T) (string, error) {
				return "", installHello(t, newDebEnv(t, withStanza(func(s string) string {
					return strings.Replace(s, "Filename: pool/", "Filename: pool/../../../../etc/", 1)
				})))
			}},
		{class: "malicious field", name: "absolute Filename: in a signed index", defence: "Filename must be a clean relative path",
			text: "not a clean relative path", as: anyError,
			run: func(t *testing.T) (string, error) {
				return "", installHello(t, newDebEnv(t, withStanza(func(s string) string {
					return strings.Replace(s, "Filename: pool/", "Filename: /pool/", 1)
				})))
			}},
		{class: "malicious field", name: "Size: 2^62 in a signed index", defence: "MaxPackageSize, checked before any request",
			want: []error{deb.ErrPlannedPackage}, text: "4611686018427387904",
			run: func(t *testing.T) (string, error) {
				e := newDebEnv(t, withStanza(func(s string) string {
					i := strings.Index(s, "\nSize: ")
					j := strings.Index(s[i+1:], "\n")
					return s[:i] + "\nSize: 4611686018427387904" + s[i+1+j:]
				}))
				err := installHello(t, e)
				if n := e.proxy.hitCount(helloDeb); n != 0 {
					t.Errorf("%d requests for the .deb", n)
				}
				return "", err
			}},
		{class: "malicious field", name: "SHA256: that is not hex", defence: "SHA256 must be 64 hex digits",
			text: "not 64 hex digits", as: anyError,
			run: func(t *testing.T) (string, error) {
				return "", installHello(t, newDebEnv(t, withStanza(func(s string) string {
					i := strings.Index(s, "SHA256: ") + len("SHA256: ")
					return s[:i] + strings.Repeat("z", 64) + s[i+64:]
				})))
			}},
		{class: "malicious field", name: "Release lists a 1 TiB Packages", defence: "1 GiB cap on an index, before download",
			want: []error{deb.ErrIndexTooLarge}, text: "1099511627776",
			run: func(t *testing.T) (string, error) {
				files := resign(t, newSnap.files, "bookworm", func(rel string) string {
					return replaceSize(t, rel, " main/binary-amd64/Packages\n", 1<<40)
				})
				return "", installHello(t, newDebEnv(t, files))
			}},
		{class: "malicious field", name: "Release lists a path with ..", defence: "Release paths must stay below the suite",
			text: "bad path", as: anyError,
			run: func(t *testing.T) (string, error) {
				files := resign(t, newSnap.files, "bookworm", func(rel string) string {
					return rel + " " + strings.Repeat("0", 64) + " 10 ../../../etc/passwd\n"
				})
				return "", installHello(t, newDebEnv(t, files))
			}},
		{class: "compressed bomb", name: "Packages.gz bomb, no uncompressed size in Release", defence: "decompression ratio cap (50)",
			want: []error{deb.ErrIndexTooLarge}, text: "decompresses to more than",
			run: func(t *testing.T) (string, error) {
				return "", installHello(t, newDebEnv(t, bomb(t, ".gz")))
			}},
		{class: "compressed bomb", name: "Packages.xz bomb, no uncompressed size in Release", defence: "decompression ratio cap (50)",
			want: []error{deb.ErrIndexTooLarge}, text: "decompresses to more than",
			run: func(t *testing.T) (string, error) {
				return "", installHello(t, newDebEnv(t, bomb(t, ".xz")))
			}},
		{class: "compressed bomb", name: ".deb with a 24 MiB zstd bomb, validly signed", defence: "unpack ratio cap (100 after 4 MiB)",
			want: []error{deb.ErrUnpackLimit}, text: "data.tar.zst",
			run: func(t *testing.T) (string, error) {
				pkgs := newPkgs()
				pkgs[1].compression = ".zst"
				pkgs[1].data = append(pkgs[1].data, debtest.DebEntry{Name: "./usr/zeros", Size: 24 << 20})
				return "", installHello(t, newDebEnv(t, buildSnap(t, snapSpec{date: newDate, pkgs: pkgs}).files))
			}},
		{class: "shared cache", name: "a cached .deb replaced in the shared cache directory", defence: "the store re-hashes every blob it reads; the unpack is rolled back",
			want: []error{store.ErrCorrupt}, text: "content hashes to",
			run: func(t *testing.T) (string, error) {
				e := newDebEnv(t, newSnap.files)
				plan, _, err := e.build(t, debRequest("hello"))
				if err != nil {
					t.Fatal(err)
				}
				hello := plan.Find("hello")
				evil := debtest.MakeDeb(t, debtest.Deb{Package: "hello", Version: "2.0-1", Compression: ".gz",
					Data: files("./usr/", "./usr/bin/", "./usr/bin/hello", "#!/bin/sh\necho pwned!!\n")})
				if err := os.WriteFile(e.store.Path(hello.SHA256), evil, 0o644); err != nil {
					t.Fatal(err)
				}
				tree, err := e.install(t, plan.Packages)
				if _, lerr := tree.Lookup("usr/bin/hello"); err != nil && lerr == nil {
					t.Errorf("the refused package is in the tree")
				}
				return "", err
			}},
		{class: "shared cache", name: "a cached Packages file replaced in the shared cache directory", defence: "a Packages file is checked (whole, or each block a stanza lies in against sums taken from the whole) before a stanza is read; the damaged one is set aside and the next fetch downloads it again",
			want: []error{store.ErrCorrupt}, text: "content hashes to",
			run: func(t *testing.T) (string, error) {
				e := newDebEnv(t, newSnap.files)
				if _, _, err := e.build(t, debRequest("hello")); err != nil {
					t.Fatal(err)
				}
				blobs, err := e.store.List(ctx(t))
				if err != nil {
					t.Fatal(err)
				}
				var path string
				for _, b := range blobs {
					if data, _ := os.ReadFile(e.store.Path(b.Digest)); bytes.HasPrefix(data, []byte("Package: ")) && bytes.Contains(data, []byte("Package: hello\n")) {
						path = e.store.Path(b.Digest)
					}
				}
				if path == "" {
					t.Fatal("no cached Packages file lists hello")
				}
				data, _ := os.ReadFile(path)
				evil := bytes.Replace(data, []byte("Package: hello\n"), []byte("Package: hello\nPre-Depends: evil\n"), 1)
				if err := os.WriteFile(path, evil, 0o644); err != nil {
					t.Fatal(err)
				}
				// Offline, so that nothing fetches the file again before
				// the resolve maps it.
				b := e.backend()
				b.Offline = true
				_, rerr := b.Resolve(ctx(t), debRequest("hello"))
				if rerr != nil {
					// Set aside: the next online run fetches the file again.
					if _, err := e.backend().Resolve(ctx(t), debRequest("hello")); err != nil {
						t.Errorf("the run after the damage: %v", err)
					}
				}
				return "", rerr
			}},
	}
	runAttacks(t, "deb", cases)
}

// resign edits a suite's Release and signs it again with the archive key:
// what a compromised (or malicious third-party) archive can serve.
func resign(t *testing.T, files map[string][]byte, suite string, fn func(string) string) map[string][]byte {
	out := merge(files)
	dist := "dists/" + suite + "/"
	rel := []byte(fn(string(files[dist+"Release"])))
	out[dist+"Release"] = rel
	out[dist+"InRelease"] = debtest.ClearSign(t, rel, newDate, keys().archive)
	out[dist+"Release.gpg"] = debtest.DetachSign(t, rel, newDate, keys().archive)
	return out
}

// replaceSize sets the size of the Release line ending in suffix.
func replaceSize(t *testing.T, rel, suffix string, size int64) string {
	i := strings.Index(rel, suffix)
	if i < 0 {
		t.Fatalf("no %q in Release", suffix)
	}
	start := strings.LastIndex(rel[:i], "\n") + 1
	f := strings.Fields(rel[start:i])
	return rel[:start] + fmt.Sprintf(" %s %d", f[0], size) + rel[i:]
}

// bomb is the new snapshot with 1 MiB of blank lines after the stanzas,
// served only in compression ext, the Release giving no uncompressed
// size: a few KiB that expand 300 times or more.
func bomb(t *testing.T, ext string) map[string][]byte {
	return buildSnap(t, snapSpec{date: newDate, pkgs: newPkgs(), noPlain: true, compressions: []string{ext},
		packagesText: func(s string) string { return s + strings.Repeat("\n", 1<<20) }}).files
}
