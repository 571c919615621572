package deb

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"syscall"

	"github.com/rootfsd/rootfsd/repo"
)

// mapBlobLazy maps a cached blob read-only without reading or checking
// it; the caller checks it whole (checkMapped) or block by block before
// using its bytes (IndexFile.bytes). verified reports a blob that could not
// be mapped and was read through the cache's verifying reader instead.
func mapBlobLazy(ctx context.Context, c repo.Cache, digest string) (data []byte, mapped, verified bool, err error) {
	f, err := os.Open(c.Path(digest))
	if os.IsNotExist(err) {
		return nil, false, false, fmt.Errorf("blob %s: %w", digest, repo.ErrNotCached)
	}
	if err != nil {
		return nil, false, false, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, false, false, err
	}
	if fi.Size() == 0 {
		data, err := checkDigest(nil, digest)
		return data, false, true, err
	}
	if fi.Size() >= maxPackagesFile {
		return nil, false, false, fmt.Errorf("blob %s: %d bytes is more than the %d byte limit", digest, fi.Size(), int64(maxPackagesFile))
	}
	data, err = syscall.Mmap(int(f.Fd()), 0, int(fi.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		data, err = readBlob(ctx, c, digest)
		return data, false, true, err
	}
	return data, true, false, nil
}

// quarantineBlob lets the cache read a blob found damaged, which sets it
// aside (the next run fetches it again), and returns the cache's error.
func quarantineBlob(ctx context.Context, c repo.Cache, digest string) error {
	rc, err := c.Open(ctx, digest)
	if err != nil {
		return err
	}
	defer rc.Close()
	_, err = io.Copy(io.Discard, rc)
	return err
}

// dropPages drops the pages of a read-only file mapping from this process
// (they stay in the page cache; a later read faults them back in).
func dropPages(b []byte) {
	if len(b) > 0 {
		_ = syscall.Madvise(b, syscall.MADV_DONTNEED)
	}
}

// unmapBlob releases a mapping made by mapBlob (a no-op for data that was
// read rather than mapped, which the garbage collector owns).
func unmapBlob(data []byte) {
	if len(data) > 0 {
		_ = syscall.Munmap(data)
	}
}

// checkMapped is checkDigest for a mapping, hashed a window at a time;
// each window's pages are dropped from the mapping once hashed (they stay
// in the page cache), so that hashing a hundred megabytes of indexes does
// not make them resident in this process: a resolve then touches only the
// few hundred stanzas it reads.
func checkMapped(data []byte, digest string) error {
	const window = 8 << 20 // a multiple of the page size
	h := sha256.New()
	for off := 0; off < len(data); off += window {
		w := data[off:min(off+window, len(data))]
		h.Write(w)
		dropPages(w)
	}
	if hex.EncodeToString(h.Sum(nil)) != digest {
		return fmt.Errorf("blob %s: content does not match its digest (corrupt cache)", digest)
	}
	return nil
}

func checkDigest(data []byte, digest string) ([]byte, error) {
	sum := sha256.Sum256(data)
	if hex.EncodeToString(sum[:]) != digest {
		return nil, fmt.Errorf("blob %s: content does not match its digest (corrupt cache)", digest)
	}
	return data, nil
}
