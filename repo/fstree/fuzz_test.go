package fstree

import (
	"archive/tar"
	"bytes"
	"strings"
	"testing"
)

// hostileTar builds a tar of raw headers, bypassing every check of ours.
func hostileTar(hdrs ...*tar.Header) []byte {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, h := range hdrs {
		tw.WriteHeader(h)
		if h.Size > 0 {
			tw.Write(bytes.Repeat([]byte("x"), int(h.Size)))
		}
	}
	tw.Close()
	return b.Bytes()
}

// FuzzReadTar feeds arbitrary tars to ReadTar. Whatever it accepts must
// write out as a tar that reads back into a tree writing the same bytes,
// and no path may leave the root.
func FuzzReadTar(f *testing.F) {
	var sampleTar bytes.Buffer
	tr := New(Options{TempDir: f.TempDir()})
	for _, e := range sample() {
		tr.Add(e.header(), strings.NewReader(e.body), "")
	}
	tr.WriteTar(&sampleTar, TarOptions{Root: true})
	tr.Close()
	f.Add(sampleTar.Bytes())
	f.Add(hostileTar(
		&tar.Header{Name: "a", Typeflag: tar.TypeSymlink, Linkname: "../../.."},
		&tar.Header{Name: "a/b/", Typeflag: tar.TypeDir, Mode: 0o755},
		&tar.Header{Name: "x", Typeflag: tar.TypeSymlink, Linkname: "/a/b"},
		&tar.Header{Name: "x/y", Typeflag: tar.TypeReg, Size: 3},
		&tar.Header{Name: "h", Typeflag: tar.TypeLink, Linkname: "x/y"},
		&tar.Header{Name: "l1", Typeflag: tar.TypeSymlink, Linkname: "l2/."},
		&tar.Header{Name: "l2", Typeflag: tar.TypeSymlink, Linkname: "l1/.."},
		&tar.Header{Name: "l1/z", Typeflag: tar.TypeReg},
	))
	f.Add(hostileTar(&tar.Header{Name: "../etc/passwd", Typeflag: tar.TypeReg, Size: 1}))
	f.Fuzz(func(t *testing.T, data []byte) {
		tr := New(Options{InlineMax: 64})
		defer tr.Close()
		if err := tr.ReadTar(bytes.NewReader(data), ""); err != nil {
			return
		}
		err := tr.Walk(func(i Info) error {
			if strings.HasPrefix(i.Path, "/") || strings.Contains("/"+i.Path+"/", "/../") {
				t.Errorf("path %q leaves the root", i.Path)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		var a, b bytes.Buffer
		if err := tr.WriteTar(&a, TarOptions{Root: true, Names: true}); err != nil {
			t.Fatalf("WriteTar of an accepted tree: %v", err)
		}
		back := New(Options{})
		defer back.Close()
		if err := back.ReadTar(bytes.NewReader(a.Bytes()), ""); err != nil {
			t.Fatalf("ReadTar of our own output: %v", err)
		}
		if err := back.WriteTar(&b, TarOptions{Root: true, Names: true}); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Fatal("tree -> tar -> tree -> tar is not stable")
		}
	})
}
