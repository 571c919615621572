package deb

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"syscall"

	"github.com/rootfsd/rootfsd/repo"
)

// mapBlob maps a cached blob read-only and checks its SHA256 before
// returning it: verify-on-read without copying 100 MB of index text into
// the heap. The mapping lives as long as the process (indexes are read
// once per process; the daemon keeps its universes).
func mapBlob(ctx context.Context, c repo.Cache, digest string) (data []byte, mapped bool, err error) {
	return mapBlobChecked(ctx, c, digest, true)
}

// mapBlobChecked is mapBlob; verify false skips the hash for a blob this
// process has just written and verified.
func mapBlobChecked(ctx context.Context, c repo.Cache, digest string, verify bool) (data []byte, mapped bool, err error) {
	f, err := os.Open(c.Path(digest))
	if os.IsNotExist(err) {
		return nil, false, fmt.Errorf("blob %s: %w", digest, repo.ErrNotCached)
	}
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, false, err
	}
	if fi.Size() == 0 {
		data, err := checkDigest(nil, digest)
		return data, false, err
	}
	if fi.Size() >= maxPackagesFile {
		return nil, false, fmt.Errorf("blob %s: %d bytes is more than the %d byte limit", digest, fi.Size(), int64(maxPackagesFile))
	}
	data, err = syscall.Mmap(int(f.Fd()), 0, int(fi.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		// Fall back to reading through the cache's verifying reader.
		data, err = readBlob(ctx, c, digest)
		return data, false, err
	}
	if !verify {
		return data, true, nil
	}
	if err := checkMapped(data, digest); err != nil {
		_ = syscall.Munmap(data)
		// Let the cache see (and quarantine) the bad blob.
		if _, rerr := readBlob(ctx, c, digest); rerr != nil {
			return nil, false, rerr
		}
		return nil, false, err
	}
	return data, true, nil
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
