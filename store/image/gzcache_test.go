package image

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/rootfsd/rootfsd/repo"
	"github.com/rootfsd/rootfsd/store"
)

// A gzip blob made on one machine (CachedGzip) and handed to another
// (RememberGzip), as a registry cache does, lets the second export the
// same image without the layer tar: the manifest digest is the same and
// the layer is never read.
func TestRememberGzipExportsWithoutTheLayer(t *testing.T) {
	ctx := context.Background()
	path, diffID := makeLayer(t, t.TempDir(), sampleEntries, nil)
	a, err := store.Open(filepath.Join(t.TempDir(), "a"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	img, err := New(ctx, []Layer{{Path: path, DiffID: diffID}}, testConfig(), Options{Cache: a})
	if err != nil {
		t.Fatal(err)
	}
	want, err := img.WriteOCI(ctx, t.TempDir(), LayoutOptions{})
	img.Close()
	if err != nil {
		t.Fatal(err)
	}
	blob, size, ok := CachedGzip(a, diffID, 0)
	if !ok || blob != want.Layers[0].Digest.Encoded() || size != want.Layers[0].Size {
		t.Fatalf("CachedGzip = %s %d %v, want the manifest's layer %s", blob, size, ok, want.Layers[0].Digest)
	}

	b, err := store.Open(filepath.Join(t.TempDir(), "b"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := RememberGzip(b, diffID, 0, blob, size); !errors.Is(err, repo.ErrNotCached) {
		t.Errorf("RememberGzip of a blob not in the cache: %v, want ErrNotCached", err)
	}
	f, err := os.Open(a.Path(blob))
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.PutBlob(ctx, f, blob, size, store.Label{Kind: store.KindLayer})
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if err := RememberGzip(b, diffID, 0, blob, size); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	noTar := func(context.Context) (io.ReadCloser, error) { return nil, errors.New("the layer tar was read") }
	img, err = New(ctx, []Layer{{Open: noTar, DiffID: diffID, Size: fi.Size()}}, testConfig(), Options{Cache: b})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	got, err := img.WriteOCI(ctx, t.TempDir(), LayoutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Digest != want.Digest {
		t.Errorf("manifest %s, want %s", got.Digest, want.Digest)
	}
}
