package attacks_test

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/rootfsd/rootfsd/deb"
	"github.com/rootfsd/rootfsd/deb/debtest"
	"github.com/rootfsd/rootfsd/repo/fstree"
)

// The hostile .deb cases that deb/unpack_hostile_test.go does not have:
// long names, ustar headers contradicted by PAX or GNU records, and the
// setuid policy. Every refused package must leave the tree as it was.

// debTree is a tree holding package "base": /usr/bin and /etc.
func debTree(t *testing.T) *fstree.Tree {
	tree := fstree.New(fstree.Options{})
	t.Cleanup(func() { tree.Close() })
	base := debtest.MakeDeb(t, debtest.Deb{Package: "base", Data: []debtest.DebEntry{
		{Name: "./", Type: tar.TypeDir}, {Name: "./usr/", Type: tar.TypeDir}, {Name: "./usr/bin/", Type: tar.TypeDir},
		{Name: "./etc/", Type: tar.TypeDir}, {Name: "./etc/shadow", Body: "root:*:", Mode: 0o640}}})
	if _, err := deb.Unpack(ctx(t), bytes.NewReader(base), "base", tree, deb.UnpackOptions{}); err != nil {
		t.Fatal(err)
	}
	return tree
}

// snapshot is the tree as a tar, to compare before and after.
func snapshot(t *testing.T, tree *fstree.Tree) []byte {
	var b bytes.Buffer
	if err := tree.WriteTar(&b, fstree.TarOptions{}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// unpackHostile unpacks a .deb of package "evil" into a fresh tree and
// checks that a refusal changed nothing.
func unpackHostile(t *testing.T, data []byte) (*fstree.Tree, error) {
	tree := debTree(t)
	before := snapshot(t, tree)
	_, err := deb.Unpack(ctx(t), bytes.NewReader(data), "evil", tree, deb.UnpackOptions{})
	if err != nil && !bytes.Equal(before, snapshot(t, tree)) {
		t.Errorf("the refused package changed the tree")
	}
	return tree, err
}

func evilDeb(t *testing.T, entries ...debtest.DebEntry) []byte {
	return debtest.MakeDeb(t, debtest.Deb{Package: "evil", Data: append([]debtest.DebEntry{{Name: "./", Type: tar.TypeDir}}, entries...)})
}

// modeIn reads the mode of p from the tree's tar output, as a layer has it.
func modeIn(t *testing.T, tree *fstree.Tree, p string) int64 {
	tr := tar.NewReader(bytes.NewReader(snapshot(t, tree)))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			t.Fatalf("%s not in the layer", p)
		}
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimSuffix(h.Name, "/") == p {
			return h.Mode
		}
	}
}

func TestHostileDeb(t *testing.T) {
	long := strings.Repeat("a", 256)
	deep := strings.Repeat("d/", 2100) + "f"
	runAttacks(t, "hostile-deb", []attack{
		{class: "very long name", name: "name component of 256 bytes", defence: "fstree: NAME_MAX (255)",
			want: []error{fstree.ErrUnsafePath}, text: "component longer than 255",
			run: func(t *testing.T) (string, error) {
				_, err := unpackHostile(t, evilDeb(t, debtest.DebEntry{Name: "./" + long, Body: "x"}))
				return "", err
			}},
		{class: "very long name", name: "path of 4203 bytes (GNU long name)", defence: "fstree: PATH_MAX (4096)",
			want: []error{fstree.ErrUnsafePath}, text: "path longer than 4096",
			run: func(t *testing.T) (string, error) {
				_, err := unpackHostile(t, evilDeb(t, debtest.DebEntry{Name: "./" + deep, Body: "x"}))
				return "", err
			}},
		{class: "very long name", name: "symlink target of 5000 bytes", defence: "fstree: PATH_MAX on link targets",
			want: []error{fstree.ErrUnsafePath}, text: "symlink target",
			run: func(t *testing.T) (string, error) {
				_, err := unpackHostile(t, evilDeb(t, debtest.DebEntry{Name: "./l", Type: tar.TypeSymlink, Link: strings.Repeat("x/", 2500)}))
				return "", err
			}},
		{class: "ustar/pax mismatch", name: "PAX path ../../etc/cron.d/x over ustar name ok", defence: "the PAX name is the name; '..' is refused",
			want: []error{fstree.ErrUnsafePath}, text: "'..' component",
			run: func(t *testing.T) (string, error) {
				_, err := unpackHostile(t, rawDeb(t, rawTar(withPAX(file("ok", "* * * * * root sh"), "path", "../../etc/cron.d/x")...)))
				return "", err
			}},
		{class: "ustar/pax mismatch", name: "PAX path /etc/shadow over ustar name ok", defence: "absolute names are refused",
			want: []error{fstree.ErrUnsafePath}, text: "absolute name",
			run: func(t *testing.T) (string, error) {
				_, err := unpackHostile(t, rawDeb(t, rawTar(withPAX(file("ok", "x"), "path", "/etc/shadow")...)))
				return "", err
			}},
		{class: "ustar/pax mismatch", name: "PAX linkpath of a hard link leaving the tree", defence: "link targets are archive paths: no '..'",
			want: []error{fstree.ErrUnsafePath}, text: "link target",
			run: func(t *testing.T) (string, error) {
				hs := append([]rawHdr{file("a", "x")}, withPAX(rawHdr{name: "h", typ: '1', link: "a"}, "linkpath", "../../../etc/shadow")...)
				_, err := unpackHostile(t, rawDeb(t, rawTar(hs...)))
				return "", err
			}},
		{class: "ustar/pax mismatch", name: "GNU long name (L) ../../etc/passwd", defence: "the long name is the name; '..' is refused",
			want: []error{fstree.ErrUnsafePath}, text: "'..' component",
			run: func(t *testing.T) (string, error) {
				hs := []rawHdr{{name: "././@LongLink", typ: 'L', size: -1, body: []byte("../../etc/passwd\x00")}, file("ok", "x")}
				_, err := unpackHostile(t, rawDeb(t, rawTar(hs...)))
				return "", err
			}},
		{class: "ustar/pax mismatch", name: "PAX size larger than the data", defence: "the tar reader runs out of data: the package is refused whole",
			text: "data.tar", as: anyError,
			run: func(t *testing.T) (string, error) {
				hs := append(withPAX(file("a", "x"), "size", "100000"), file("b", "y"))
				_, err := unpackHostile(t, rawDeb(t, rawTar(hs...)))
				return "", err
			}},
		{class: "ustar/pax mismatch", name: "PAX path with a NUL byte", defence: "archive/tar refuses the record",
			text: "data.tar", as: anyError,
			run: func(t *testing.T) (string, error) {
				_, err := unpackHostile(t, rawDeb(t, rawTar(withPAX(file("ok", "x"), "path", "etc/x\x00../y")...)))
				return "", err
			}},
		{class: "ustar/pax mismatch", name: "global PAX header naming ../../etc/passwd", defence: "global headers are skipped, never applied to later entries",
			run: func(t *testing.T) (string, error) {
				hs := []rawHdr{{name: "pax_global_header", typ: 'g', size: -1, body: pax("path", "../../etc/passwd")}, file("ok", "x")}
				tree, err := unpackHostile(t, rawDeb(t, rawTar(hs...)))
				if err != nil {
					return "", err
				}
				if got := readTree(t, tree, "ok"); got != "x" {
					t.Errorf("ok holds %q", got)
				}
				return "neutralised: the entry is installed as ok", nil
			}},
		{class: "setuid", name: "setuid-root file shipped by the package", defence: "kept as the verified package ships it (dpkg does the same); the layer records 4755",
			run: func(t *testing.T) (string, error) {
				tree, err := unpackHostile(t, evilDeb(t, debtest.DebEntry{Name: "./usr/bin/su", Body: "su", Mode: 0o4755}))
				if err != nil {
					return "", err
				}
				if m := modeIn(t, tree, "usr/bin/su"); m != 0o4755 {
					t.Errorf("layer mode %o", m)
				}
				return "kept: usr/bin/su 4755 in the layer", nil
			}},
		{class: "setuid", name: "hard link header with mode 4755 to a 0755 file", defence: "a hard link shares its target's inode: its own header mode is ignored",
			run: func(t *testing.T) (string, error) {
				tree, err := unpackHostile(t, evilDeb(t, debtest.DebEntry{Name: "./usr/bin/sh", Body: "sh", Mode: 0o755},
					debtest.DebEntry{Name: "./usr/bin/rootsh", Type: tar.TypeLink, Link: "./usr/bin/sh", Mode: 0o4755}))
				if err != nil {
					return "", err
				}
				i, err := tree.Lookup("usr/bin/rootsh")
				if err != nil || i.Mode != 0o755 {
					t.Errorf("rootsh: %+v %v", i, err)
				}
				return fmt.Sprintf("neutralised: usr/bin/rootsh has mode %o", i.Mode), nil
			}},
		{class: "setuid", name: "directory entry 4777 for another package's /usr/bin", defence: "an existing directory keeps the metadata of its first explicit entry",
			run: func(t *testing.T) (string, error) {
				tree, err := unpackHostile(t, evilDeb(t, debtest.DebEntry{Name: "./usr/bin/", Type: tar.TypeDir, Mode: 0o4777}))
				if err != nil {
					return "", err
				}
				if m := modeIn(t, tree, "usr/bin"); m != 0o755 {
					t.Errorf("usr/bin mode %o", m)
				}
				return "neutralised: usr/bin stays 755", nil
			}},
	})
}
