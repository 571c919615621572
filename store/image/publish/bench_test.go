package publish

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/rootfsd/rootfsd/store/image"
)

// realLayer writes a layer of about size bytes of the host's /usr files.
func realLayer(b testing.TB, path string, size int64) string {
	b.Helper()
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	tw := tar.NewWriter(io.MultiWriter(f, h))
	var total int64
	errDone := errors.New("done")
	err = filepath.WalkDir("/usr", func(p string, d fs.DirEntry, err error) error {
		if total >= size {
			return errDone
		}
		if err != nil {
			return nil
		}
		fi, err := d.Info()
		if err != nil || !(fi.Mode().IsRegular() || fi.IsDir()) {
			return nil
		}
		hdr, err := tar.FileInfoHeader(fi, "")
		if err != nil {
			return nil
		}
		hdr.Name, hdr.Uname, hdr.Gname, hdr.ModTime = p[1:], "", "", testEpoch
		if fi.IsDir() {
			hdr.Name += "/"
			return tw.WriteHeader(hdr)
		}
		src, err := os.Open(p)
		if err != nil {
			return nil
		}
		defer src.Close()
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		n, err := io.Copy(tw, src)
		total += n
		return err
	})
	if err != nil && !errors.Is(err, errDone) {
		b.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		b.Fatal(err)
	}
	if total < size {
		b.Skipf("SKIP: only %d bytes of files below /usr", total)
	}
	return hex.EncodeToString(h.Sum(nil))
}

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
	diffID := realLayer(b, path, 30<<20)
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
