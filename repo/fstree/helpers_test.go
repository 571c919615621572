package fstree

import (
	"archive/tar"
	"fmt"
	"strings"
	"testing"
	"time"
)

// entry is an archive entry in a test table.
type entry struct {
	name, body, link string
	typ              byte
	mode             int64
	owner            string
}

func file(name, body string) entry {
	return entry{name: name, body: body, typ: tar.TypeReg, mode: 0o644}
}
func dir(name string) entry { return entry{name: name, typ: tar.TypeDir, mode: 0o755} }
func symlink(name, to string) entry {
	return entry{name: name, link: to, typ: tar.TypeSymlink, mode: 0o777}
}
func hardlink(name, to string) entry {
	return entry{name: name, link: to, typ: tar.TypeLink, mode: 0o644}
}

func (e entry) by(owner string) entry { e.owner = owner; return e }

func (e entry) header() *tar.Header {
	return &tar.Header{
		Name: e.name, Typeflag: e.typ, Mode: e.mode, Size: int64(len(e.body)),
		Linkname: e.link, ModTime: time.Unix(1700000000, 0),
	}
}

// add puts entries into t, failing the test on an error.
func add(t testing.TB, tr *Tree, es ...entry) {
	t.Helper()
	for _, e := range es {
		if _, err := tr.Add(e.header(), strings.NewReader(e.body), e.owner); err != nil {
			t.Fatal(err)
		}
	}
}

func newTree(t testing.TB, opts Options, es ...entry) *Tree {
	t.Helper()
	if opts.TempDir == "" {
		opts.TempDir = t.TempDir()
	}
	tr := New(opts)
	t.Cleanup(func() { tr.Close() })
	add(t, tr, es...)
	return tr
}

// listing renders a tree one line per path, for cmp diffs:
// "usr/bin/ls file 0755 pkg" plus "-> target", "= link" or a size.
func listing(t testing.TB, tr *Tree) []string {
	t.Helper()
	var out []string
	err := tr.Walk(func(i Info) error {
		s := fmt.Sprintf("%s %s %04o %d:%d", i.Path, i.Kind, i.Mode, i.UID, i.GID)
		if i.Owner != "" {
			s += " " + i.Owner
		}
		switch {
		case i.Link != "":
			s += " = " + i.Link
		case i.Kind == KindSymlink:
			s += " -> " + i.Target
		case i.Kind == KindFile:
			b, err := tr.ReadFile(i.Path)
			if err != nil {
				return err
			}
			s += fmt.Sprintf(" %q", b)
		case i.Kind == KindChar || i.Kind == KindBlock:
			s += fmt.Sprintf(" %d,%d", i.Devmajor, i.Devminor)
		}
		for _, k := range sortedKeys(i.Xattrs) {
			s += fmt.Sprintf(" %s=%q", k, i.Xattrs[k])
		}
		out = append(out, s)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
