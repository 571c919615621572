package deb

import (
	"bytes"
	"context"
	"testing"

	"github.com/rootfsd/rootfsd/deb/internal/debtest"
	"github.com/rootfsd/rootfsd/repo/fstree"
)

// FuzzUnpack feeds arbitrary bytes to Unpack. A failure must leave the tree
// exactly as it was; a success must list only paths the tree has.
func FuzzUnpack(f *testing.F) {
	for _, comp := range []string{"", ".gz", ".xz", ".zst"} {
		f.Add(debtest.MakeDeb(f, debtest.Deb{Package: "hello", Data: helloData, Compression: comp}))
	}
	f.Add(debtest.MakeDeb(f, debtest.Deb{Package: "hello", Data: []debEntry{
		tDir("./"), tLink("./a", "/"), tFile("./a/b", "x"), tHard("./c", "./a/b"), tLink("./d", "../../.."),
	}}))
	lim := UnpackLimits{MaxControl: 1 << 20, MaxData: 4 << 20, MaxEntries: 1000}
	var empty bytes.Buffer
	fstree.New(fstree.Options{}).WriteTar(&empty, fstree.TarOptions{Root: true, Names: true})
	f.Fuzz(func(t *testing.T, b []byte) {
		tr := fstree.New(fstree.Options{InlineMax: -1})
		defer tr.Close()
		u, err := Unpack(context.Background(), bytes.NewReader(b), "hello", tr, UnpackOptions{Limits: lim})
		if err != nil {
			if !bytes.Equal(empty.Bytes(), treeSnapshot(t, tr)) {
				t.Fatalf("failed unpack (%v) changed the tree", err)
			}
			return
		}
		if len(u.Paths) == 0 || u.Paths[0] != "/." {
			t.Fatalf("Paths %q do not start with /.", u.Paths)
		}
		for _, p := range u.Paths[1:] {
			if _, err := tr.Lookup(p); err != nil {
				t.Errorf("listed path %s: %v", p, err)
			}
		}
		treeSnapshot(t, tr)
	})
}
