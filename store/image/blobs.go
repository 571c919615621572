package image

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/rootfsd/rootfsd/repo"
)

// blobRef names a blob kept by a blobStore.
type blobRef struct {
	hex  string
	size int64
}

// blobStore keeps the blobs an image derives from its layers (compressed
// layers) and remembers which layer each came from.
type blobStore interface {
	put(ctx context.Context, r io.Reader, name string) (blobRef, error)
	open(ctx context.Context, b blobRef) (io.ReadCloser, error)
	lookup(key string) (blobRef, bool)
	remember(key string, b blobRef) error
}

// metaNamespace is where a repo.Cache records derived layer blobs.
const metaNamespace = "image-layer-blob"

// cacheStore keeps blobs in a repo.Cache (the rootfsd store), so that a
// later build with the same layer reuses the compressed blob.
type cacheStore struct{ c repo.Cache }

func (s cacheStore) put(ctx context.Context, r io.Reader, name string) (blobRef, error) {
	d, n, err := repo.PutLabeled(ctx, s.c, r, "", -1, repo.BlobLayer, name)
	if err != nil {
		return blobRef{}, err
	}
	return blobRef{hex: d, size: n}, nil
}

func (s cacheStore) open(ctx context.Context, b blobRef) (io.ReadCloser, error) {
	rc, err := s.c.Open(ctx, b.hex)
	if err != nil {
		return nil, err
	}
	// The cache verifies the digest; the size is checked here.
	return readCloser{newVerifyReader(rc, b.hex, b.size, "cached blob sha256:"+b.hex), rc}, nil
}

func (s cacheStore) lookup(key string) (blobRef, bool) {
	v, err := s.c.GetMeta(metaNamespace, key)
	if err != nil {
		return blobRef{}, false
	}
	h, size, ok := strings.Cut(string(v), " ")
	n, err := strconv.ParseInt(size, 10, 64)
	if !ok || err != nil || len(h) != 64 || !s.c.Has(h) {
		return blobRef{}, false
	}
	return blobRef{hex: h, size: n}, true
}

func (s cacheStore) remember(key string, b blobRef) error {
	return s.c.SetMeta(metaNamespace, key, []byte(b.hex+" "+strconv.FormatInt(b.size, 10)))
}

// dirStore keeps blobs in a private directory for the image's lifetime.
type dirStore struct {
	dir string
	mu  sync.Mutex
	m   map[string]blobRef
}

func newDirStore(parent string) (*dirStore, error) {
	dir, err := os.MkdirTemp(parent, "rootfsd-image-")
	if err != nil {
		return nil, fmt.Errorf("image: work directory: %w", err)
	}
	return &dirStore{dir: dir, m: map[string]blobRef{}}, nil
}

func (s *dirStore) put(ctx context.Context, r io.Reader, _ string) (blobRef, error) {
	f, err := os.CreateTemp(s.dir, "tmp-")
	if err != nil {
		return blobRef{}, fmt.Errorf("image: %w", err)
	}
	defer func() {
		if f != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), ctxReader{ctx, r})
	if err != nil {
		return blobRef{}, err
	}
	if err := f.Close(); err != nil {
		return blobRef{}, fmt.Errorf("image: %w", err)
	}
	b := blobRef{hex: hex.EncodeToString(h.Sum(nil)), size: n}
	if err := os.Rename(f.Name(), filepath.Join(s.dir, b.hex)); err != nil {
		return blobRef{}, fmt.Errorf("image: %w", err)
	}
	f = nil
	return b, nil
}

func (s *dirStore) open(ctx context.Context, b blobRef) (io.ReadCloser, error) {
	f, err := os.Open(filepath.Join(s.dir, b.hex))
	if err != nil {
		return nil, fmt.Errorf("image: blob sha256:%s: %w", b.hex, err)
	}
	return readCloser{newVerifyReader(ctxReader{ctx, f}, b.hex, b.size, "blob sha256:"+b.hex), f}, nil
}

func (s *dirStore) lookup(key string) (blobRef, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.m[key]
	return b, ok
}

func (s *dirStore) remember(key string, b blobRef) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[key] = b
	return nil
}

func (s *dirStore) close() error { return os.RemoveAll(s.dir) }

// ctxReader stops a copy when its context is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// errClosed is returned when an image is used after Close.
var errClosed = errors.New("image: used after Close")
