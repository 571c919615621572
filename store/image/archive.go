package image

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"time"
)

// WriteOCIArchive writes the image as a tar of an OCI image layout
// (oci-archive:FILE). The tar is deterministic: fixed order (oci-layout,
// index.json, blobs sorted by digest), owner 0:0, modes 0644/0755 and the
// image's creation time as every mtime. The file appears under path only
// when complete.
func (img *Image) WriteOCIArchive(ctx context.Context, path string, opts LayoutOptions) (*Manifest, error) {
	lc, err := img.layout(ctx, opts)
	if err != nil {
		return nil, err
	}
	return writeLayoutArchive(ctx, path, lc, img.mtime())
}

// writeLayoutArchive writes lc as a deterministic tar of an OCI layout.
func writeLayoutArchive(ctx context.Context, path string, lc *layoutContent, mtime time.Time) (*Manifest, error) {
	idx, err := indexJSON(lc.entries)
	if err != nil {
		return nil, err
	}
	err = writeAtomic(path, func(w io.Writer) error {
		tw := newTarWriter(w, mtime)
		if err := tw.file("oci-layout", ociLayoutFile); err != nil {
			return err
		}
		if err := tw.file("index.json", idx); err != nil {
			return err
		}
		if err := tw.dir("blobs/"); err != nil {
			return err
		}
		if err := tw.dir("blobs/sha256/"); err != nil {
			return err
		}
		for _, b := range lc.blobs {
			if err := tw.blob(ctx, "blobs/sha256/"+b.hex, b); err != nil {
				return err
			}
		}
		return tw.Close()
	})
	if err != nil {
		return nil, fmt.Errorf("image: oci-archive:%s: %w", path, err)
	}
	return lc.manifest, nil
}

// mtime is the modification time of archive members.
func (img *Image) mtime() time.Time {
	t, err := time.Parse("2006-01-02T15:04:05Z", img.created)
	if err != nil {
		return time.Unix(0, 0)
	}
	return t
}

// tarWriter writes archive members with fixed metadata.
type tarWriter struct {
	*tar.Writer
	mtime time.Time
}

func newTarWriter(w io.Writer, mtime time.Time) *tarWriter {
	return &tarWriter{Writer: tar.NewWriter(w), mtime: mtime}
}

func (t *tarWriter) header(name string, typ byte, mode, size int64) *tar.Header {
	return &tar.Header{Name: name, Typeflag: typ, Mode: mode, Size: size, ModTime: t.mtime, Format: tar.FormatPAX}
}

func (t *tarWriter) dir(name string) error {
	return t.WriteHeader(t.header(name, tar.TypeDir, 0o755, 0))
}

func (t *tarWriter) file(name string, data []byte) error {
	if err := t.WriteHeader(t.header(name, tar.TypeReg, 0o644, int64(len(data)))); err != nil {
		return err
	}
	_, err := t.Write(data)
	return err
}

func (t *tarWriter) symlink(name, target string) error {
	h := t.header(name, tar.TypeSymlink, 0o777, 0)
	h.Linkname = target
	return t.WriteHeader(h)
}

// blob copies a layout blob into the archive, verifying it as it goes.
func (t *tarWriter) blob(ctx context.Context, name string, b layoutBlob) error {
	rc, err := b.verified(ctx)
	if err != nil {
		return err
	}
	defer rc.Close()
	if err := t.WriteHeader(t.header(name, tar.TypeReg, 0o644, b.size)); err != nil {
		return err
	}
	n, err := io.Copy(t, rc)
	if err != nil {
		return err
	}
	if n != b.size {
		return fmt.Errorf("%s: %d bytes, want %d", name, n, b.size)
	}
	return nil
}
