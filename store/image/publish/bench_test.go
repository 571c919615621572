package publish

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/rootfsd/rootfsd/store/image"
	"github.com/rootfsd/rootfsd/store/image/imagetest"
)

// BenchmarkCommit30MB commits a ~30 MB layer of real files to a fresh
// private store (new), and again to the same store (existing: the layer is
// found by diffID and only the name and metadata are written).
func BenchmarkCommit30MB(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("SKIP: the commit benchmark runs as root")
	}
	ctx := context.Background()
	dir := b.TempDir()
	path := filepath.Join(dir, "real.tar")
	diffID := imagetest.RealLayer(b, path, 30<<20, testEpoch)
	fi, _ := os.Stat(path)
	newImg := func() *image.Image {
		img, err := image.New(ctx, []image.Layer{{Path: path, DiffID: diffID}}, image.Config{Created: testEpoch, Architecture: "amd64"}, image.Options{WorkDir: dir})
		if err != nil {
			b.Fatal(err)
		}
		return img
	}
	store := func(i int) CommitOptions {
		d := filepath.Join(dir, fmt.Sprint("store", i))
		return CommitOptions{GraphRoot: filepath.Join(d, "root"), RunRoot: filepath.Join(d, "run"), Driver: "overlay", WorkDir: dir}
	}
	b.Run("new", func(b *testing.B) {
		b.SetBytes(fi.Size())
		for i := 0; i < b.N; i++ {
			img := newImg()
			if _, err := Commit(ctx, img, "bench:new", store(i)); err != nil {
				b.Fatal(err)
			}
			img.Close()
		}
	})
	b.Run("existing", func(b *testing.B) {
		o := store(-1)
		img := newImg()
		defer img.Close()
		if _, err := Commit(ctx, img, "bench:existing", o); err != nil {
			b.Fatal(err)
		}
		b.SetBytes(fi.Size())
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := Commit(ctx, img, fmt.Sprint("bench:existing", i), o); err != nil {
				b.Fatal(err)
			}
		}
	})
}
