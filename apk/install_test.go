package apk

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rootfsd/rootfsd/repo"
	"github.com/rootfsd/rootfsd/repo/fstree"
)

type built struct {
	pkg *Package
	apk builtAPK
}

func buildPkg(t *testing.T, name, origin, extra string, scripts map[string]string, files ...tarFile) built {
	a, _ := testSigners(t)
	info := "pkgname = " + name + "\npkgver = 1.0-r0\norigin = " + origin + "\n" + extra
	apk := buildAPK(t, a, crypto.SHA1, testAPK{pkginfo: info, scripts: scripts, files: files})
	return built{pkg: &Package{Name: name, Version: "1.0-r0", Origin: origin, Checksum: apk.checksum,
		Size: int64(len(apk.data)), Arch: "x86_64"}, apk: apk}
}

func usrFile(name, content string) []tarFile {
	return []tarFile{{name: "usr/", typ: tar.TypeDir, mode: 0755}, {name: "usr/" + name, data: []byte(content), mode: 0644}}
}

func newTestInstaller(t *testing.T) (*Installer, *fstree.Tree) {
	a, _ := testSigners(t)
	tree := fstree.New(fstree.Options{TempDir: t.TempDir()})
	t.Cleanup(func() { tree.Close() })
	return NewInstaller(tree, a.keyring(t), Limits{}), tree
}

func (b built) install(t *testing.T, in *Installer) error {
	_, err := in.Install(context.Background(), b.pkg, "", bytes.NewReader(b.apk.data))
	return err
}

func fileOwners(in *Installer) map[string][]string {
	out := map[string][]string{}
	for _, ip := range in.Installed() {
		for _, e := range ip.File.Entries {
			if e.Header.Typeflag != tar.TypeDir {
				out[ip.Package.Name] = append(out[ip.Package.Name], e.Header.Name)
			}
		}
	}
	return out
}

func TestInstallOverwriteRules(t *testing.T) {
	a := buildPkg(t, "a", "a", "", nil, usrFile("x", "from a")...)
	for _, tc := range []struct {
		name    string
		b       built
		err     string
		content string
		owners  map[string][]string
	}{
		{"conflict", buildPkg(t, "b", "b", "", nil, usrFile("x", "from b")...),
			"trying to overwrite usr/x owned by a-1.0-r0", "from a", map[string][]string{"a": {"usr/x"}}},
		{"same origin", buildPkg(t, "b", "a", "", nil, usrFile("x", "from b")...),
			"", "from b", map[string][]string{"b": {"usr/x"}}},
		{"b replaces a", buildPkg(t, "b", "b", "replaces = a\n", nil, usrFile("x", "from b")...),
			"", "from b", map[string][]string{"b": {"usr/x"}}},
		{"a replaces b with priority", buildPkg(t, "b", "b", "", nil, usrFile("x", "from b")...),
			"", "from a", map[string][]string{"a": {"usr/x"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, tree := newTestInstaller(t)
			first := a
			if tc.name == "a replaces b with priority" {
				first = buildPkg(t, "a", "a", "replaces = b\nreplaces_priority = 10\n", nil, usrFile("x", "from a")...)
			}
			if err := first.install(t, in); err != nil {
				t.Fatal(err)
			}
			err := tc.b.install(t, in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %v, want %q", err, tc.err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			got, err := tree.ReadFile("usr/x")
			if err != nil || string(got) != tc.content {
				t.Errorf("usr/x = %q, %v; want %q", got, err, tc.content)
			}
			if diff := cmp.Diff(tc.owners, fileOwners(in)); diff != "" {
				t.Errorf("owners (-want +got):\n%s", diff)
			}
		})
	}
}

// A package that fails verification half way leaves the tree unchanged.
func TestInstallRollback(t *testing.T) {
	in, tree := newTestInstaller(t)
	bad := buildPkg(t, "bad", "bad", "", nil,
		tarFile{name: "usr/", typ: tar.TypeDir, mode: 0755},
		tarFile{name: "usr/one", data: []byte("1"), mode: 0644},
		tarFile{name: "usr/two", data: []byte("2"), mode: 0644, pax: map[string]string{paxChecksum: sha1Hex([]byte("3"))}})
	if err := bad.install(t, in); err == nil {
		t.Fatal("bad checksum accepted")
	}
	if _, err := tree.Lookup("usr"); err == nil {
		t.Error("usr left in the tree")
	}
	if len(in.Installed()) != 0 {
		t.Error("package recorded")
	}
}

// A file whose directory has no entry in the archive cannot be recorded in
// apk's database; apk-tools marks such a package broken, rootfsd refuses it.
func TestInstallNoDirEntry(t *testing.T) {
	in, tree := newTestInstaller(t)
	p := buildPkg(t, "nodir", "nodir", "", nil, tarFile{name: "usr/x", data: []byte("x"), mode: 0644})
	if err := p.install(t, in); err == nil || !strings.Contains(err.Error(), "no directory entry for usr") {
		t.Fatalf("got %v", err)
	}
	if _, err := tree.Lookup("usr/x"); err == nil {
		t.Error("usr/x left in the tree")
	}
}

func TestInstallScriptsNotRun(t *testing.T) {
	in, _ := newTestInstaller(t)
	var events []repo.Event
	in.Reporter = func(e repo.Event) { events = append(events, e) }
	p := buildPkg(t, "foo", "foo", "triggers = /usr\n", map[string]string{".post-install": "#!/bin/sh\n", ".trigger": "#!/bin/sh\n", ".pre-upgrade": "#!/bin/sh\n"},
		usrFile("x", "x")...)
	if err := p.install(t, in); err != nil {
		t.Fatal(err)
	}
	if err := in.Finish(context.Background(), FinishOptions{World: []Dep{{Name: "foo", Op: OpAny}}, Arch: "x86_64"}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"foo-1.0-r0 post-install", "foo-1.0-r0 trigger"}, in.NotRun()); diff != "" {
		t.Errorf("not run (-want +got):\n%s", diff)
	}
	warnings := 0
	for _, e := range events {
		if e.Kind == repo.EventWarning {
			warnings++
		}
	}
	if warnings != 2 {
		t.Errorf("%d warnings", warnings)
	}
}

// The alpine-base closure: openrc's post-install is a no-op on a fresh
// root, busybox's trigger runs bbsuid --install for busybox-suid.
func TestInstallAlpineBase(t *testing.T) {
	tree, in := installWorld(t, isoRepo, "alpine-base")
	if len(in.Installed()) != 25 {
		t.Fatalf("%d installed", len(in.Installed()))
	}
	if nr := in.NotRun(); len(nr) != 0 {
		t.Errorf("not run: %v", nr)
	}
	for p, want := range map[string]string{"bin/su": "/bin/bbsuid", "bin/mount": "/bin/bbsuid", "usr/bin/passwd": "/bin/bbsuid",
		"bin/ls": "/bin/busybox", "bin/sh": "/bin/busybox"} {
		info, err := tree.Lookup(p)
		if err != nil || info.Kind != fstree.KindSymlink || info.Target != want {
			t.Errorf("%s: %v %q %v, want link to %s", p, info.Kind, info.Target, err, want)
		}
	}
	if info, err := tree.Lookup("bin/bbsuid"); err != nil || info.Mode != 0o4111 {
		t.Errorf("bin/bbsuid mode %o %v", info.Mode, err)
	}
}
