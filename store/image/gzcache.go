package image

import (
	"fmt"

	"github.com/rootfsd/rootfsd/repo"
)

// gzipKey is the cache record of the gzip form of layer diffID (hex).
func gzipKey(level int, diffID string) string {
	if level == 0 {
		level = DefaultGzipLevel
	}
	return fmt.Sprintf("gzip-%d:%s", level, diffID)
}

// CachedGzip returns the blob (hex SHA256 and size) that an earlier export
// kept in c as the gzip form, at level (0: DefaultGzipLevel), of the
// uncompressed layer diffID (hex). A registry cache shares it so that
// another machine exports the same image without compressing again.
func CachedGzip(c repo.Cache, diffID string, level int) (blob string, size int64, ok bool) {
	b, ok := cacheStore{c}.lookup(gzipKey(level, diffID))
	return b.hex, b.size, ok
}

// RememberGzip records that blob, already in c, is the gzip form of the
// uncompressed layer diffID at level (0: DefaultGzipLevel). Exports then
// use it as is, so the caller vouches for it (as for a layer taken from a
// registry cache: the image's config names diffID, and a client pulling
// the image checks the decompressed content against it).
func RememberGzip(c repo.Cache, diffID string, level int, blob string, size int64) error {
	if !c.Has(blob) {
		return fmt.Errorf("image: gzip blob sha256:%s of layer sha256:%s: %w", blob, diffID, repo.ErrNotCached)
	}
	return cacheStore{c}.remember(gzipKey(level, diffID), blobRef{hex: blob, size: size})
}
