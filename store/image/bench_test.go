package image

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/rootfsd/rootfsd/repo/repotest"
	"github.com/rootfsd/rootfsd/store/image/imagetest"
)

// realLayer writes a ~size layer of the host's /usr files into dir and
// returns its path and diffID.
func realLayer(b testing.TB, dir string, size int64) (string, string) {
	b.Helper()
	path := filepath.Join(dir, "real.tar")
	return path, imagetest.RealLayer(b, path, size, testEpoch)
}

// BenchmarkExport30MB measures each export of a ~30 MB layer of real files,
// from a fresh image (so including compression where the export needs it).
func BenchmarkExport30MB(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	path, diffID := realLayer(b, dir, 30<<20)
	fi, _ := os.Stat(path)
	exports := map[string]func(img *Image, out string) error{
		"oci-gzip": func(img *Image, out string) error {
			_, err := img.WriteOCI(ctx, out, LayoutOptions{})
			return err
		},
		"oci-uncompressed": func(img *Image, out string) error {
			_, err := img.WriteOCI(ctx, out, LayoutOptions{Compression: Uncompressed})
			return err
		},
		"oci-archive": func(img *Image, out string) error {
			_, err := img.WriteOCIArchive(ctx, out+".tar", LayoutOptions{})
			return err
		},
		"docker-archive": func(img *Image, out string) error { return img.WriteDockerArchive(ctx, out+".tar", "x:y") },
	}
	for _, name := range sortedKeys(exports) {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(fi.Size())
			for i := 0; i < b.N; i++ {
				img, err := New(ctx, []Layer{{Path: path, DiffID: diffID}}, testConfig(), Options{WorkDir: dir})
				if err != nil {
					b.Fatal(err)
				}
				out := filepath.Join(dir, fmt.Sprint("out", i))
				if err := exports[name](img, out); err != nil {
					b.Fatal(err)
				}
				img.Close()
				os.RemoveAll(out)
				os.Remove(out + ".tar")
			}
		})
	}
}

// BenchmarkExportCached30MB measures an oci-archive export of a ~30 MB
// layer whose gzip blob a previous build left in the cache: what a rebuild
// with an unchanged lock costs.
func BenchmarkExportCached30MB(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	path, diffID := realLayer(b, dir, 30<<20)
	fi, _ := os.Stat(path)
	cache := repotest.NewMemCache()
	warm, err := New(ctx, []Layer{{Path: path, DiffID: diffID}}, testConfig(), Options{Cache: cache})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := warm.Manifest(ctx, Gzip); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(fi.Size())
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		img, err := New(ctx, []Layer{{Path: path, DiffID: diffID}}, testConfig(), Options{Cache: cache})
		if err != nil {
			b.Fatal(err)
		}
		out := filepath.Join(dir, fmt.Sprint("out", i, ".tar"))
		if _, err := img.WriteOCIArchive(ctx, out, LayoutOptions{}); err != nil {
			b.Fatal(err)
		}
		img.Close()
		os.Remove(out)
	}
}

// BenchmarkGzipLevel compares gzip levels on the same layer: throughput
// and the compressed size as a ratio.
func BenchmarkGzipLevel(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	path, diffID := realLayer(b, dir, 30<<20)
	fi, _ := os.Stat(path)
	for _, level := range []int{1, 6, 9} {
		b.Run(fmt.Sprint("level", level), func(b *testing.B) {
			b.SetBytes(fi.Size())
			var size int64
			for i := 0; i < b.N; i++ {
				img, err := New(ctx, []Layer{{Path: path, DiffID: diffID}}, testConfig(), Options{WorkDir: dir, GzipLevel: level})
				if err != nil {
					b.Fatal(err)
				}
				m, err := img.Manifest(ctx, Gzip)
				if err != nil {
					b.Fatal(err)
				}
				size = m.Layers[0].Size
				img.Close()
			}
			b.ReportMetric(float64(size)/float64(fi.Size()), "ratio")
		})
	}
}
