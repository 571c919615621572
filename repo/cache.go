package repo

import (
	"context"
	"errors"
	"io"
	"os"
)

// ErrNotCached is returned by a Cache for content it does not hold.
var ErrNotCached = errors.New("not in cache")

// Cache is the content-addressed store the format packages keep verified
// downloads and derived data in. Implemented by store.Store; repo only
// depends on this interface so that it stays free of storage details.
//
// Digests are lower-case hex SHA256 strings without an algorithm prefix.
type Cache interface {
	// Put streams r into the cache. When want is not empty the content must
	// hash to it, else nothing is kept and an error is returned. When size is
	// not negative the content must be exactly that long (and reading stops
	// after size+1 bytes). Put returns the digest and size written.
	Put(ctx context.Context, r io.Reader, want string, size int64) (digest string, n int64, err error)
	// Open returns a reader of the blob with digest that verifies the content
	// while it is read: the final Read returns an error on a mismatch.
	// A missing blob is ErrNotCached.
	Open(ctx context.Context, digest string) (io.ReadCloser, error)
	// Has reports whether the blob is present (not whether it is intact).
	Has(digest string) bool
	// Path returns the file name of a blob for readers that need random
	// access, such as mmap; callers must not modify it.
	Path(digest string) string

	// GetMeta and SetMeta read and write small records under a namespace
	// ("index-etag", "suite-date", ...). GetMeta of a missing key returns
	// ErrNotCached.
	GetMeta(ns, key string) ([]byte, error)
	SetMeta(ns, key string, value []byte) error
}

// Blob kinds, for caches that label what they hold (rootfsd cache ls and
// du show them). A cache may show other kinds for blobs it makes itself.
const (
	BlobPackage  = "package"  // a package file (.deb, .apk)
	BlobIndex    = "index"    // a signed index, one of its parts, or a table of one
	BlobUnpacked = "unpacked" // a package's contents, decoded (a .deb's data.tar)
	BlobLayer    = "layer"    // a layer tar or its compressed form
)

// LabelingCache is a Cache that records what each blob is. PutLabeled is
// Put that also labels the blob with a kind and a name for listings.
type LabelingCache interface {
	Cache
	PutLabeled(ctx context.Context, r io.Reader, want string, size int64, kind, name string) (digest string, n int64, err error)
}

// PutLabeled puts r into c, labelled when c keeps labels.
func PutLabeled(ctx context.Context, c Cache, r io.Reader, want string, size int64, kind, name string) (string, int64, error) {
	if lc, ok := c.(LabelingCache); ok {
		return lc.PutLabeled(ctx, r, want, size, kind, name)
	}
	return c.Put(ctx, r, want, size)
}

// FileCache is a Cache that hands out a blob as an open file holding
// exactly its verified bytes, for readers that refer to them in place
// rather than copy them. OpenFile hashes the content unless the cache
// knows that very file (not another under the same name) to be verified
// already; the file must be the same, unchanged, once hashed. A missing
// blob is ErrNotCached.
type FileCache interface {
	Cache
	OpenFile(ctx context.Context, digest string) (*os.File, error)
}
