package check

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// loadArchive unpacks an oci-archive or docker-archive into a temporary
// directory, then reads it as a layout.
func loadArchive(ctx context.Context, p, kind string, opts LoadOptions) (*Target, error) {
	dir, err := os.MkdirTemp(opts.TempDir, "rootfsd-check-")
	if err != nil {
		return nil, fmt.Errorf("check: %w", err)
	}
	rm := func() error { return os.RemoveAll(dir) }
	if err := extractArchive(ctx, p, dir, opts.MaxTree); err != nil {
		rm()
		return nil, fmt.Errorf("check: %s: %w", p, err)
	}
	var t *Target
	if kind == KindOCIArchive {
		t, err = loadOCI(ctx, dir, kind, opts)
	} else {
		t, err = loadDocker(ctx, dir, opts)
	}
	if err != nil {
		rm()
		return nil, err
	}
	t.cleanup = append([]func() error{rm}, t.cleanup...)
	return t, nil
}

// extractArchive writes the regular files of an image archive below dir,
// through os.Root so that no name can escape it.
func extractArchive(ctx context.Context, p, dir string, max int64) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	r, err := maybeGzip(f)
	if err != nil {
		return err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	tr := tar.NewReader(r)
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		name := cleanName(hdr.Name)
		if hdr.Typeflag != tar.TypeReg || name == "" {
			continue
		}
		if total += hdr.Size; total > max {
			return fmt.Errorf("archive holds more than %d bytes", max)
		}
		if d := filepath.Dir(name); d != "." {
			if err := root.MkdirAll(d, 0o700); err != nil {
				return err
			}
		}
		out, err := root.OpenFile(name, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		_, err = io.Copy(out, tr)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
}
