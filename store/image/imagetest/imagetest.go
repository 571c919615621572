// Package imagetest holds test helpers shared by the image packages' tests
// and benchmarks.
package imagetest

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// RealLayer writes to path a layer tar of about size bytes made of the
// host's /usr files (binaries, libraries, text: what a rootfs holds), in
// walk order, every mtime set to mtime, and returns its diffID (hex). It
// skips the test when /usr holds less.
func RealLayer(tb testing.TB, path string, size int64, mtime time.Time) string {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
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
		hdr.Name, hdr.Uname, hdr.Gname, hdr.ModTime = p[1:], "", "", mtime
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
		tb.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		tb.Fatal(err)
	}
	if total < size {
		tb.Skipf("SKIP: only %d bytes of files below /usr", total)
	}
	return hex.EncodeToString(h.Sum(nil))
}
