// Package repotest holds test helpers for the packages that use repo's
// interfaces.
package repotest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"sync"

	"github.com/rootfsd/rootfsd/repo"
)

// MemCache is a repo.Cache in memory that checks sizes and digests on Put
// like the real store. It is safe for concurrent use.
type MemCache struct {
	mu    sync.Mutex
	blobs map[string][]byte
	meta  map[string][]byte
	puts  int
}

var _ repo.Cache = (*MemCache)(nil)

// NewMemCache returns an empty MemCache.
func NewMemCache() *MemCache {
	return &MemCache{blobs: map[string][]byte{}, meta: map[string][]byte{}}
}

// Put implements repo.Cache.
func (c *MemCache) Put(_ context.Context, r io.Reader, want string, size int64) (string, int64, error) {
	if size >= 0 {
		r = io.LimitReader(r, size+1)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return "", 0, fmt.Errorf("cache put: %w", err)
	}
	if size >= 0 && int64(len(data)) != size {
		return "", 0, fmt.Errorf("cache put: size %d, want %d", len(data), size)
	}
	sum := sha256.Sum256(data)
	d := hex.EncodeToString(sum[:])
	if want != "" && d != want {
		return "", 0, fmt.Errorf("cache put: sha256 %s, want %s", d, want)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.blobs[d] = data
	c.puts++
	return d, int64(len(data)), nil
}

// Open implements repo.Cache.
func (c *MemCache) Open(_ context.Context, d string) (io.ReadCloser, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.blobs[d]
	if !ok {
		return nil, repo.ErrNotCached
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

// Has implements repo.Cache.
func (c *MemCache) Has(d string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.blobs[d]
	return ok
}

// Path implements repo.Cache: blobs have no file.
func (c *MemCache) Path(string) string { return "" }

// GetMeta implements repo.Cache.
func (c *MemCache) GetMeta(ns, key string) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.meta[ns+"\x00"+key]
	if !ok {
		return nil, repo.ErrNotCached
	}
	return v, nil
}

// SetMeta implements repo.Cache.
func (c *MemCache) SetMeta(ns, key string, v []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.meta[ns+"\x00"+key] = v
	return nil
}

// Len is the number of blobs held.
func (c *MemCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.blobs)
}

// Puts is the number of successful Put calls.
func (c *MemCache) Puts() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.puts
}

// Damage flips a byte in the middle of every non-empty blob, as a failing
// disk or a hostile shared cache would; the digests stay.
func (c *MemCache) Damage() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for d, b := range c.blobs {
		if len(b) == 0 {
			continue
		}
		b = append([]byte(nil), b...)
		b[len(b)/2] ^= 0xff
		c.blobs[d] = b
	}
}
