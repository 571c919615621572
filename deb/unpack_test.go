package deb

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"os/exec"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rootfsd/rootfsd/deb/internal/debtest"
	"github.com/rootfsd/rootfsd/repo"
	"github.com/rootfsd/rootfsd/repo/fstree"
)

type debEntry = debtest.DebEntry

func tDir(name string) debEntry        { return debEntry{Name: name, Type: tar.TypeDir} }
func tFile(name, body string) debEntry { return debEntry{Name: name, Body: body} }
func tLink(name, target string) debEntry {
	return debEntry{Name: name, Type: tar.TypeSymlink, Link: target}
}
func tHard(name, target string) debEntry {
	return debEntry{Name: name, Type: tar.TypeLink, Link: target}
}

func unpackTree(t testing.TB) *fstree.Tree {
	tr := fstree.New(fstree.Options{TempDir: t.TempDir()})
	t.Cleanup(func() { tr.Close() })
	return tr
}

func unpackDeb(t testing.TB, tr *fstree.Tree, d debtest.Deb, opt UnpackOptions) (*Unpacked, error) {
	t.Helper()
	return Unpack(context.Background(), bytes.NewReader(debtest.MakeDeb(t, d)), d.Package, tr, opt)
}

// snapshot is the tree as a tar, to prove a failed unpack changed nothing.
func treeSnapshot(t testing.TB, tr *fstree.Tree) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := tr.WriteTar(&b, fstree.TarOptions{Root: true, Names: true}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// paths lists the tree as "path kind owner [-> target]" lines.
func treeLines(t testing.TB, tr *fstree.Tree) []string {
	t.Helper()
	var out []string
	tr.Walk(func(i fstree.Info) error {
		s := fmt.Sprintf("%s %s %s", i.Path, i.Kind, i.Owner)
		if i.Target != "" {
			s += " -> " + i.Target
		}
		if i.Link != "" {
			s += " = " + i.Link
		}
		out = append(out, strings.TrimSpace(s))
		return nil
	})
	return out
}

var helloData = []debEntry{
	tDir("./"), tDir("./usr/"), tDir("./usr/bin/"), tFile("./usr/bin/hello", "#!/bin/sh\necho hello\n"),
	tHard("./usr/bin/hi", "./usr/bin/hello"), tDir("./usr/share/"), tDir("./usr/share/doc/"),
	tDir("./usr/share/doc/hello/"), tFile("./usr/share/doc/hello/copyright", strings.Repeat("free software\n", 500)),
	tLink("./usr/bin/hey", "hello"),
}

func TestUnpack(t *testing.T) {
	for _, comp := range []string{"", ".gz", ".xz", ".zst"} {
		for _, xzCmd := range []string{"", "xz"} {
			if xzCmd != "" && (comp != ".xz" || !haveProgram("xz")) {
				continue
			}
			t.Run("data.tar"+comp+xzCmd, func(t *testing.T) {
				tr := unpackTree(t)
				d := debtest.Deb{Package: "hello", Data: helloData, Compression: comp, ControlCompression: ".xz",
					ControlFiles: map[string]string{"postinst": "#!/bin/sh\nexit 0\n", "conffiles": ""}}
				var events int
				u, err := unpackDeb(t, tr, d, UnpackOptions{XZCommand: xzCmd, Report: func(e repo.Event) { events++ }})
				if err != nil {
					t.Fatal(err)
				}
				wantPaths := []string{"/.", "/usr", "/usr/bin", "/usr/bin/hello", "/usr/bin/hi", "/usr/share",
					"/usr/share/doc", "/usr/share/doc/hello", "/usr/share/doc/hello/copyright", "/usr/bin/hey"}
				if diff := cmp.Diff(wantPaths, u.Paths); diff != "" {
					t.Errorf("Paths (-want +got):\n%s", diff)
				}
				if got := strings.Join(controlNames(u.Control), " "); got != "conffiles control md5sums postinst" {
					t.Errorf("control files: %s", got)
				}
				wantSums := map[string]string{
					"/usr/bin/hello":                 md5Hex("#!/bin/sh\necho hello\n"),
					"/usr/share/doc/hello/copyright": md5Hex(strings.Repeat("free software\n", 500)),
				}
				if diff := cmp.Diff(wantSums, u.MD5Sums); diff != "" {
					t.Errorf("MD5Sums (-want +got):\n%s", diff)
				}
				if u.Size != int64(21+14*500) || u.Package != "hello" || len(u.Replaced) != 0 || events != 1 {
					t.Errorf("Size %d, Package %q, Replaced %v, %d events", u.Size, u.Package, u.Replaced, events)
				}
				want := []string{". directory hello", "usr directory hello", "usr/bin directory hello",
					"usr/bin/hello file hello", "usr/bin/hey symlink hello -> hello", "usr/bin/hi file hello = usr/bin/hello",
					"usr/share directory hello", "usr/share/doc directory hello", "usr/share/doc/hello directory hello",
					"usr/share/doc/hello/copyright file hello"}
				if diff := cmp.Diff(want, treeLines(t, tr)); diff != "" {
					t.Errorf("tree (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func TestUnpackMergedUsr(t *testing.T) {
	tr := unpackTree(t)
	base := debtest.Deb{Package: "base-files", Compression: ".zst", Data: []debEntry{
		tDir("./"), tLink("./bin", "usr/bin"), tLink("./lib64", "usr/lib64"), tDir("./usr/"), tDir("./usr/bin/"),
	}}
	if _, err := unpackDeb(t, tr, base, UnpackOptions{}); err != nil {
		t.Fatal(err)
	}
	core := debtest.Deb{Package: "coreutils", Compression: ".xz", Data: []debEntry{
		tDir("./"), tDir("./bin/"), tFile("./bin/ls", "ls"), tDir("./lib64/"), tFile("./lib64/ld-linux-x86-64.so.2", "ld"),
	}}
	u, err := unpackDeb(t, tr, core, UnpackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"/.", "/bin", "/bin/ls", "/lib64", "/lib64/ld-linux-x86-64.so.2"}, u.Paths); diff != "" {
		t.Errorf("Paths (-want +got):\n%s", diff)
	}
	want := []string{". directory base-files", "bin symlink base-files -> usr/bin", "lib64 symlink base-files -> usr/lib64",
		"usr directory base-files", "usr/bin directory base-files", "usr/bin/ls file coreutils",
		"usr/lib64 directory coreutils", "usr/lib64/ld-linux-x86-64.so.2 file coreutils"}
	if diff := cmp.Diff(want, treeLines(t, tr)); diff != "" {
		t.Errorf("tree (-want +got):\n%s", diff)
	}
}

func TestUnpackReplaces(t *testing.T) {
	tr := unpackTree(t)
	a := debtest.Deb{Package: "a", Data: []debEntry{tDir("./usr/"), tFile("./usr/x", "a")}}
	b := debtest.Deb{Package: "b", Data: []debEntry{tDir("./usr/"), tFile("./usr/x", "b")}}
	if _, err := unpackDeb(t, tr, a, UnpackOptions{}); err != nil {
		t.Fatal(err)
	}
	before := treeSnapshot(t, tr)
	_, err := unpackDeb(t, tr, b, UnpackOptions{})
	if !errors.Is(err, ErrRefusedEntry) || !strings.Contains(err.Error(), "trying to overwrite /usr/x, which is also in package a") {
		t.Fatalf("unpacking b over a = %v", err)
	}
	if !bytes.Equal(before, treeSnapshot(t, tr)) {
		t.Fatal("refused package changed the tree")
	}
	var asked []string
	replace := func(p, owner string) error { asked = append(asked, p+" of "+owner); return nil }
	u, err := unpackDeb(t, tr, b, UnpackOptions{Replace: replace})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"usr/x of a"}, asked); diff != "" {
		t.Error(diff)
	}
	if diff := cmp.Diff([]fstree.Replaced{{Path: "usr/x", Owner: "a", Kind: fstree.KindFile}}, u.Replaced); diff != "" {
		t.Error(diff)
	}
	if got, _ := tr.ReadFile("usr/x"); string(got) != "b" {
		t.Errorf("usr/x = %q", got)
	}
}

func controlNames(m map[string][]byte) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func haveProgram(name string) bool {
	_, err := exec.LookPath(name)
	return err == nil
}
