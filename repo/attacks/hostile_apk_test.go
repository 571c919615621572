package attacks_test

import (
	"archive/tar"
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/rootfsd/rootfsd/apk"
	"github.com/rootfsd/rootfsd/repo/fstree"
)

// The hostile .apk cases apk/tamper_test.go does not have: escapes that
// only the tree (repo/fstree) can see, long names, mismatched headers,
// devices, duplicates and setuid. Packages are validly signed: these are
// what a malicious archive, not a proxy, could ship.

// apkTree is a tree where package "base" installed usr/bin and etc/shadow.
func apkTree(t *testing.T) *fstree.Tree {
	tree := fstree.New(fstree.Options{})
	t.Cleanup(func() { tree.Close() })
	if err := installAPK(t, tree, apkPkg{name: "base", version: "1.0-r0", entries: []apkEntry{
		{name: "usr/", typ: tar.TypeDir, mode: 0o755}, {name: "usr/bin/", typ: tar.TypeDir, mode: 0o755},
		{name: "etc/", typ: tar.TypeDir, mode: 0o755}, {name: "etc/shadow", data: []byte("root:*:"), mode: 0o640}}}); err != nil {
		t.Fatal(err)
	}
	return tree
}

// installAPK verifies and installs a package as Assemble does.
func installAPK(t *testing.T, tree *fstree.Tree, p apkPkg) error {
	b := buildAPK(t, p)
	in := apk.NewInstaller(tree, apkArchive().keyring(t), apk.Limits{})
	pkg := &apk.Package{Checksum: b.checksum, Name: p.name, Version: p.version, Arch: "x86_64", Size: int64(len(b.data))}
	_, err := in.Install(ctx(t), pkg, "", bytes.NewReader(b.data))
	return err
}

// installHostileAPK installs package "evil" into a base tree and checks
// that a refusal changed nothing.
func installHostileAPK(t *testing.T, entries []apkEntry, raw []byte) (*fstree.Tree, error) {
	tree := apkTree(t)
	before := snapshot(t, tree)
	// A fresh installer knows nothing of base's files, so every refusal
	// below comes from the package itself or from the tree.
	err := installAPK(t, tree, apkPkg{name: "evil", version: "1.0-r0", entries: entries, rawData: raw})
	if err != nil && !bytes.Equal(before, snapshot(t, tree)) {
		t.Errorf("the refused package changed the tree")
	}
	return tree, err
}

func TestHostileAPK(t *testing.T) {
	x := sha1Hex([]byte("x"))
	run := func(entries ...apkEntry) func(t *testing.T) (string, error) {
		return func(t *testing.T) (string, error) { _, err := installHostileAPK(t, entries, nil); return "", err }
	}
	runRaw := func(hs ...rawHdr) func(t *testing.T) (string, error) {
		return func(t *testing.T) (string, error) { _, err := installHostileAPK(t, nil, rawTar(hs...)); return "", err }
	}
	runAttacks(t, "hostile-apk", []attack{
		{class: "symlink escape", name: "symlink to /etc, then a file through it", defence: "fstree: no write through the package's own symlink",
			want: []error{fstree.ErrOwnSymlink}, text: "evil/shadow",
			run: run(apkEntry{name: "evil", typ: tar.TypeSymlink, link: "/etc"}, apkEntry{name: "evil/shadow", data: []byte("x")})},
		{class: "symlink escape", name: "symlink to ../../.., then a file through it", defence: "fstree: no write through the package's own symlink; '..' is clamped at the root",
			want: []error{fstree.ErrOwnSymlink}, text: "up/etc/shadow",
			run: run(apkEntry{name: "up", typ: tar.TypeSymlink, link: "../../.."}, apkEntry{name: "up/etc/shadow", data: []byte("x")})},
		{class: "hard-link escape", name: "hard link to its own symlink to /etc/shadow", defence: "fstree: a hard link names a regular file, never a symlink",
			want: []error{fstree.ErrBadLink}, text: "link target s",
			run: run(apkEntry{name: "s", typ: tar.TypeSymlink, link: "/etc/shadow"}, apkEntry{name: "h", typ: tar.TypeLink, link: "s"})},
		{class: "hard-link escape", name: "hard link to another package's etc/shadow", defence: "apk: a hard link names an earlier entry of the same package",
			want: []error{apk.ErrFormat}, text: "not earlier in the package",
			run: run(apkEntry{name: "h", typ: tar.TypeLink, link: "etc/shadow"})},
		{class: "overwrite", name: "file over another package's etc/passwd", defence: "apk ownership rules: no replaces, no overwrite",
			text: "trying to overwrite etc/passwd owned by owner-1", as: anyError,
			run: func(t *testing.T) (string, error) {
				tree := apkTree(t)
				in := apk.NewInstaller(tree, apkArchive().keyring(t), apk.Limits{})
				for _, p := range []apkPkg{{name: "owner", version: "1", entries: []apkEntry{{name: "etc/", typ: tar.TypeDir, mode: 0o755}, {name: "etc/passwd", data: []byte("root")}}},
					{name: "evil", version: "1", entries: []apkEntry{{name: "etc/passwd", data: []byte("evil")}}}} {
					b := buildAPK(t, p)
					if _, err := in.Install(ctx(t), &apk.Package{Checksum: b.checksum, Name: p.name, Version: p.version, Size: int64(len(b.data))}, "", bytes.NewReader(b.data)); err != nil {
						if got := readTree(t, tree, "etc/passwd"); got != "root" {
							t.Errorf("etc/passwd is %q", got)
						}
						return "", err
					}
				}
				return "", nil
			}},
		{class: "very long name", name: "name component of 256 bytes", defence: "fstree: NAME_MAX (255)",
			want: []error{fstree.ErrUnsafePath}, text: "component longer than 255",
			run: run(apkEntry{name: strings.Repeat("a", 256), data: []byte("x")})},
		{class: "very long name", name: "path of 5001 bytes", defence: "apk PathLength limit (4096)",
			want: []error{apk.ErrTooLarge}, text: "path longer than 4096",
			run: run(apkEntry{name: strings.Repeat("d/", 2500) + "f", data: []byte("x")})},
		{class: "ustar/pax mismatch", name: "PAX path ../../etc/x over ustar name ok", defence: "apk: entry names are checked after PAX",
			want: []error{apk.ErrFormat}, text: "unsafe path",
			run: runRaw(withPAX(file("ok", "x"), "path", "../../etc/x", "APK-TOOLS.checksum.SHA1", x)...)},
		{class: "ustar/pax mismatch", name: "GNU long name (L) ../etc/passwd", defence: "apk: entry names are checked after GNU records",
			want: []error{apk.ErrFormat}, text: "unsafe path",
			run: runRaw(rawHdr{name: "././@LongLink", typ: 'L', size: -1, body: []byte("../etc/passwd\x00")}, file("ok", "x"))},
		{class: "device node", name: "character device dev/mem 1:1", defence: "devices are refused in .apk data (entrypolicy.go, new)",
			want: []error{apk.ErrFormat}, text: "device",
			run: run(apkEntry{name: "dev/", typ: tar.TypeDir, mode: 0o755}, apkEntry{name: "dev/mem", typ: tar.TypeChar, mode: 0o666})},
		{class: "duplicate entry", name: "usr/bin/x as a file, then as a symlink to /etc/shadow", defence: "duplicate paths are refused (entrypolicy.go, new)",
			want: []error{apk.ErrFormat}, text: "duplicate",
			run: run(apkEntry{name: "usr/", typ: tar.TypeDir, mode: 0o755}, apkEntry{name: "usr/bin/", typ: tar.TypeDir, mode: 0o755},
				apkEntry{name: "usr/bin/x", data: []byte("x")}, apkEntry{name: "usr/bin/x", typ: tar.TypeSymlink, link: "/etc/shadow"})},
		{class: "setuid", name: "real busybox-suid: bin/bbsuid setuid root", defence: "kept as the signed package ships it (apk does the same)",
			run: func(t *testing.T) (string, error) {
				_, tree, err := newAPKEnvReal(t).build(t, apkRequest("busybox-suid"))
				if err != nil {
					return "", err
				}
				i, err := tree.Lookup("bin/bbsuid")
				if err != nil || i.Mode&0o4000 == 0 || i.UID != 0 {
					t.Fatalf("bin/bbsuid: %+v %v", i, err)
				}
				return fmt.Sprintf("kept: bin/bbsuid %o, uid 0", i.Mode), nil
			}},
	})
}
