package debtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/rootfsd/rootfsd/repo"
)

// Cache is a repo.Cache in a directory: blobs/<hex> and meta/<ns>/<hex of
// key>. Put writes to a temporary file, hashes, verifies and renames, so
// a failed Put leaves nothing behind.
type Cache struct {
	Dir string
}

var _ repo.FileCache = (*Cache)(nil)

// NewCache returns a Cache in a fresh temporary directory of t.
func NewCache(t testing.TB) *Cache {
	t.Helper()
	c := &Cache{Dir: t.TempDir()}
	for _, d := range []string{"blobs", "meta", "tmp"} {
		if err := os.MkdirAll(filepath.Join(c.Dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// Put implements repo.Cache.
func (c *Cache) Put(ctx context.Context, r io.Reader, want string, size int64) (string, int64, error) {
	tmp, err := os.CreateTemp(filepath.Join(c.Dir, "tmp"), "put-")
	if err != nil {
		return "", 0, fmt.Errorf("cache put: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	h := sha256.New()
	src := r
	if size >= 0 {
		src = io.LimitReader(r, size+1)
	}
	n, err := io.Copy(io.MultiWriter(tmp, h), src)
	if err != nil {
		return "", 0, fmt.Errorf("cache put: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return "", 0, fmt.Errorf("cache put: %w", err)
	}
	if size >= 0 && n != size {
		return "", 0, fmt.Errorf("cache put: size mismatch: got %d bytes, want %d", n, size)
	}
	got := hex.EncodeToString(h.Sum(nil))
	if want != "" && got != want {
		return "", 0, fmt.Errorf("cache put: sha256 mismatch: got %s, want %s", got, want)
	}
	if err := tmp.Close(); err != nil {
		return "", 0, fmt.Errorf("cache put: %w", err)
	}
	if err := os.Rename(tmp.Name(), c.Path(got)); err != nil {
		return "", 0, fmt.Errorf("cache put: %w", err)
	}
	return got, n, nil
}

// Open implements repo.Cache with a reader that verifies at EOF.
func (c *Cache) Open(_ context.Context, digest string) (io.ReadCloser, error) {
	f, err := os.Open(c.Path(digest))
	if os.IsNotExist(err) {
		return nil, fmt.Errorf("blob %s: %w", digest, repo.ErrNotCached)
	}
	if err != nil {
		return nil, err
	}
	return &verifier{f: f, h: sha256.New(), want: digest}, nil
}

type verifier struct {
	f    *os.File
	h    hash.Hash
	want string
}

func (v *verifier) Read(p []byte) (int, error) {
	n, err := v.f.Read(p)
	v.h.Write(p[:n])
	if err == io.EOF {
		if got := hex.EncodeToString(v.h.Sum(nil)); got != v.want {
			return n, fmt.Errorf("blob %s: content hashes to %s", v.want, got)
		}
	}
	return n, err
}

func (v *verifier) Close() error { return v.f.Close() }

// OpenFile implements repo.FileCache: the blob's file, once hashed.
func (c *Cache) OpenFile(ctx context.Context, digest string) (*os.File, error) {
	rc, err := c.Open(ctx, digest)
	if err != nil {
		return nil, err
	}
	v := rc.(*verifier)
	if _, err := io.Copy(io.Discard, v); err != nil {
		v.f.Close()
		return nil, err
	}
	if _, err := v.f.Seek(0, io.SeekStart); err != nil {
		v.f.Close()
		return nil, err
	}
	return v.f, nil
}

// Has implements repo.Cache.
func (c *Cache) Has(digest string) bool {
	_, err := os.Stat(c.Path(digest))
	return err == nil
}

// Path implements repo.Cache.
func (c *Cache) Path(digest string) string { return filepath.Join(c.Dir, "blobs", digest) }

func (c *Cache) metaPath(ns, key string) string {
	k := sha256.Sum256([]byte(key))
	return filepath.Join(c.Dir, "meta", hex.EncodeToString([]byte(ns)), hex.EncodeToString(k[:]))
}

// GetMeta implements repo.Cache.
func (c *Cache) GetMeta(ns, key string) ([]byte, error) {
	b, err := os.ReadFile(c.metaPath(ns, key))
	if os.IsNotExist(err) {
		return nil, repo.ErrNotCached
	}
	return b, err
}

// SetMeta implements repo.Cache.
func (c *Cache) SetMeta(ns, key string, value []byte) error {
	p := c.metaPath(ns, key)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, value, 0o644)
}

// Blobs lists the digests the cache holds, sorted.
func (c *Cache) Blobs() []string {
	ents, _ := os.ReadDir(filepath.Join(c.Dir, "blobs"))
	out := make([]string, 0, len(ents))
	for _, e := range ents {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out
}

// Sum is the lower-case hex SHA256 of b.
func Sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
