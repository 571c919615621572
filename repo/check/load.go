package check

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/rootfsd/rootfsd/repo/fstree"
)

// Target kinds Load recognises.
const (
	KindDir           = "dir"
	KindTar           = "tar"
	KindOCI           = "oci"
	KindOCIArchive    = "oci-archive"
	KindDockerArchive = "docker-archive"
)

// Target is a root filesystem to check or compare: a directory, a rootfs
// tar, or an image's layers applied in order.
type Target struct {
	FS fs.ReadLinkFS
	// Config is the image configuration; nil for a directory or a tar.
	Config *ImageConfig
	// Kind is one of KindDir, KindTar, KindOCI, KindOCIArchive,
	// KindDockerArchive.
	Kind    string
	cleanup []func() error
}

// Close releases the temporary files of the target.
func (t *Target) Close() error {
	var errs []error
	for i := len(t.cleanup) - 1; i >= 0; i-- {
		errs = append(errs, t.cleanup[i]())
	}
	t.cleanup = nil
	return errors.Join(errs...)
}

// LoadOptions configure Load. The zero value reads plain and gzip layers
// and spools into os.TempDir().
type LoadOptions struct {
	TempDir string
	// Decompress opens layers of media types ending in "+zstd"; nil makes
	// them an error (the standard library has no zstd).
	Decompress func(r io.Reader) (io.ReadCloser, error)
	// Arch picks the manifest of an image index ("amd64", "arm64");
	// empty takes the first.
	Arch string
	// MaxTree bounds the bytes of file content a tar or image may hold.
	MaxTree int64
}

// DefaultMaxTree is LoadOptions.MaxTree when zero.
const DefaultMaxTree = 16 << 30

// Load opens p as a Target: a directory (an OCI layout when it holds
// index.json and oci-layout), or a file that is a rootfs tar, an
// oci-archive or a docker-archive (plain or gzip-compressed).
func Load(ctx context.Context, p string, opts LoadOptions) (*Target, error) {
	if opts.MaxTree <= 0 {
		opts.MaxTree = DefaultMaxTree
	}
	fi, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("check: %w; give a directory, a rootfs tar, an OCI layout, an oci-archive or a docker-archive (for an image in containers-storage: skopeo copy containers-storage:NAME oci-archive:FILE)", err)
	}
	if fi.IsDir() {
		if isOCILayout(p) {
			return loadOCI(ctx, p, KindOCI, opts)
		}
		return &Target{FS: os.DirFS(p).(fs.ReadLinkFS), Kind: KindDir}, nil
	}
	names, err := tarNames(p, 64)
	if err != nil {
		return nil, fmt.Errorf("check: %s: %w", p, err)
	}
	switch {
	case names["oci-layout"] && names["index.json"]:
		return loadArchive(ctx, p, KindOCIArchive, opts)
	case names["manifest.json"] && !names["etc"] && !names["usr"]:
		return loadArchive(ctx, p, KindDockerArchive, opts)
	}
	t := fstree.New(fstree.Options{TempDir: opts.TempDir})
	target := &Target{FS: TreeFS(t), Kind: KindTar, cleanup: []func() error{t.Close}}
	f, err := os.Open(p)
	if err != nil {
		target.Close()
		return nil, fmt.Errorf("check: %w", err)
	}
	r, err := maybeGzip(f)
	if err != nil {
		f.Close()
		target.Close()
		return nil, fmt.Errorf("check: %s: %w", p, err)
	}
	if _, ok := r.(*bufio.Reader); ok {
		// A plain tar: the tree refers to the file contents in place
		// instead of copying them, and keeps the file open.
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			target.Close()
			return nil, fmt.Errorf("check: %w", err)
		}
		r = fstree.NewTarFile(f, 0, fi.Size())
		target.cleanup = append(target.cleanup, f.Close)
	} else {
		defer f.Close()
	}
	var total int64
	if err := applyLayer(ctx, t, r, "rootfs", &total, opts.MaxTree); err != nil {
		target.Close()
		return nil, fmt.Errorf("check: %s: %w", p, err)
	}
	return target, nil
}

func isOCILayout(dir string) bool {
	_, err1 := os.Stat(path.Join(dir, "index.json"))
	_, err2 := os.Stat(path.Join(dir, "oci-layout"))
	return err1 == nil && err2 == nil
}

// maybeGzip returns r decompressed if it starts with gzip's magic.
func maybeGzip(r io.Reader) (io.Reader, error) {
	br := bufio.NewReader(r)
	magic, _ := br.Peek(2)
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		return gzip.NewReader(br)
	}
	return br, nil
}

// tarNames returns the cleaned names of the first n entries of a tar.
func tarNames(p string, n int) (map[string]bool, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := maybeGzip(f)
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(r)
	names := map[string]bool{}
	for i := 0; i < n; i++ {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if i == 0 {
				return nil, fmt.Errorf("not a directory, tar or image archive: %w", err)
			}
			break
		}
		top, _, _ := strings.Cut(cleanName(hdr.Name), "/")
		names[top] = true
		names[cleanName(hdr.Name)] = true
	}
	return names, nil
}

func cleanName(name string) string {
	return strings.TrimPrefix(path.Clean("/"+name), "/")
}

// applyLayer adds a layer's entries to t, honouring OCI whiteouts: ".wh.X"
// removes X from the layers below, ".wh..wh..opq" empties its directory.
func applyLayer(ctx context.Context, t *fstree.Tree, r io.Reader, owner string, total *int64, max int64) error {
	tr := tar.NewReader(r)
	ft, _ := r.(*fstree.TarFile)
	added := map[string]bool{}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read layer: %w", err)
		}
		if hdr.Typeflag == tar.TypeXGlobalHeader {
			continue
		}
		name := cleanName(hdr.Name)
		dir, base := path.Split(name)
		switch {
		case base == ".wh..wh..opq":
			if err := opaque(t, path.Clean("/"+dir), added); err != nil {
				return err
			}
			continue
		case strings.HasPrefix(base, ".wh."):
			if err := t.RemoveAll(path.Join(dir, strings.TrimPrefix(base, ".wh."))); err != nil {
				return err
			}
			continue
		case name == "":
			continue
		}
		if *total += hdr.Size; *total > max {
			return fmt.Errorf("the tree holds more than %d bytes; extract it to a directory and check that", max)
		}
		hdr.Name = name
		if hdr.Typeflag == tar.TypeLink {
			hdr.Linkname = cleanName(hdr.Linkname)
		}
		var content io.Reader = tr
		if ft != nil {
			content = ft.Content(tr, hdr)
		}
		if _, err := t.Add(hdr, content, owner); err != nil {
			return err
		}
		added[name] = true
	}
}

// opaque removes what lower layers put in dir, keeping what this layer
// already added there.
func opaque(t *fstree.Tree, dir string, added map[string]bool) error {
	dir = strings.TrimPrefix(dir, "/")
	var lower []string
	err := t.Walk(func(i fstree.Info) error {
		if i.Path != "." && path.Dir(i.Path) == cleanDot(dir) && !added[i.Path] {
			lower = append(lower, i.Path)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, p := range lower {
		if err := t.RemoveAll(p); err != nil {
			return err
		}
	}
	return nil
}

func cleanDot(p string) string {
	if p == "" {
		return "."
	}
	return p
}
