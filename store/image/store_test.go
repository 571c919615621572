package image

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/rootfsd/rootfsd/store"
)

// TestStoreCache uses the rootfsd store as the cache, as the engine does:
// the layer itself is a store blob (Path), the gzip blob goes into the
// store, and a second image of the same layer finds it there.
func TestStoreCache(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(filepath.Join(t.TempDir(), "cache"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	path, _ := makeLayer(t, t.TempDir(), sampleEntries, nil)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	blob, err := st.PutBlob(ctx, f, "", -1, store.Label{Kind: store.KindLayer})
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	build := func() *Manifest {
		img, err := New(ctx, []Layer{{Path: st.Path(blob.Digest), DiffID: blob.Digest}}, testConfig(), Options{Cache: st})
		if err != nil {
			t.Fatal(err)
		}
		defer img.Close()
		m, err := img.WriteOCI(ctx, t.TempDir(), LayoutOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	first := build()
	gz := first.Layers[0].Digest.Encoded()
	if !st.Has(gz) {
		t.Fatalf("gzip blob %s not in the store", gz)
	}
	fi1, _ := os.Stat(st.Path(gz))
	second := build()
	fi2, _ := os.Stat(st.Path(gz))
	if second.Digest != first.Digest || !os.SameFile(fi1, fi2) || !fi1.ModTime().Equal(fi2.ModTime()) {
		t.Errorf("second build recompressed: %s vs %s", second.Digest, first.Digest)
	}
}
