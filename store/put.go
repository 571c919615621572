package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"

	"go.etcd.io/bbolt"

	"github.com/rootfsd/rootfsd/repo"
)

// Kinds the store's callers label blobs with. Any string is allowed; these
// are the ones rootfsd uses, so that Usage groups them consistently.
const (
	KindPackage  = repo.BlobPackage  // a package file (.deb, .apk)
	KindIndex    = repo.BlobIndex    // a signed index, one of its parts, or a table of one
	KindUnpacked = repo.BlobUnpacked // a package's decoded contents, kept to skip decompressing it again
	KindLayer    = repo.BlobLayer    // a layer tarball or its compressed form
	KindConfig   = "config"          // an image config, manifest or SBOM
)

// Label says what a blob is, for listings and usage by kind. Empty fields
// keep what a blob already has.
type Label struct {
	Kind string `json:"kind,omitempty"`
	Name string `json:"name,omitempty"` // e.g. "libc6_2.39-0ubuntu8_amd64.deb"
	// Ref, when set, adds the blob to that reference in the same
	// transaction that records it, so that no Prune running in between
	// can remove it before the caller's AddRef.
	Ref string `json:"-"`
}

// copyBufSize is the buffer used to stream blobs in and out.
const copyBufSize = 1 << 20

// Put streams r into the store. When want is not empty the content must
// hash to it, else nothing is kept and the error wraps ErrDigestMismatch.
// When size is not negative the content must be exactly that long and at
// most size+1 bytes are read (ErrSizeMismatch). Put implements repo.Cache.
func (s *Store) Put(ctx context.Context, r io.Reader, want string, size int64) (string, int64, error) {
	b, err := s.PutBlob(ctx, r, want, size, Label{})
	return b.Digest, b.Size, err
}

// PutLabeled is Put with a label (repo.LabelingCache).
func (s *Store) PutLabeled(ctx context.Context, r io.Reader, want string, size int64, kind, name string) (string, int64, error) {
	b, err := s.PutBlob(ctx, r, want, size, Label{Kind: kind, Name: name})
	return b.Digest, b.Size, err
}

// PutBlob is Put that also labels the blob.
//
// The content goes to a temporary file, hashed while written; once it is
// checked it is fsynced, made read-only and renamed over blobs/sha256/<hex>
// while holding meta.lock, so that Prune cannot remove the blob between the
// rename and its record. Putting a blob that is present replaces the file,
// which also heals a damaged copy.
func (s *Store) PutBlob(ctx context.Context, r io.Reader, want string, size int64, l Label) (Blob, error) {
	if s.opt.ReadOnly {
		return Blob{}, fmt.Errorf("store: put: %w", ErrReadOnly)
	}
	what := "blob"
	if want != "" {
		d, err := ParseDigest(want)
		if err != nil {
			return Blob{}, err
		}
		want, what = d, "blob "+d
	}
	if l.Name != "" {
		what += " (" + clip(l.Name) + ")"
	}
	if l.Ref != "" {
		if err := checkName("reference", l.Ref); err != nil {
			return Blob{}, err
		}
	}
	limit := s.opt.MaxBlobSize
	if size >= 0 {
		if size > limit {
			return Blob{}, fmt.Errorf("store: %s: size %d exceeds the limit of %d bytes: %w", what, size, limit, ErrTooLarge)
		}
		limit = size
	}
	f, err := s.createTemp("put-")
	if err != nil {
		return Blob{}, err
	}
	tmp := f.Name()
	defer func() {
		if f != nil {
			unflock(f)
			_ = os.Remove(tmp)
		}
	}()

	h := sha256.New()
	n, err := io.CopyBuffer(io.MultiWriter(NewWriteback(f), h), &ctxReader{ctx: ctx, r: io.LimitReader(r, limit+1)}, make([]byte, copyBufSize))
	if err != nil {
		return Blob{}, fmt.Errorf("store: %s: %w", what, err)
	}
	switch {
	case n > limit && size < 0:
		return Blob{}, fmt.Errorf("store: %s: longer than the limit of %d bytes: %w", what, limit, ErrTooLarge)
	case size >= 0 && n != size:
		return Blob{}, fmt.Errorf("store: %s: got %s bytes, want %d: %w", what, countString(n, limit), size, ErrSizeMismatch)
	}
	digest := hex.EncodeToString(h.Sum(nil))
	if want != "" && digest != want {
		return Blob{}, fmt.Errorf("store: %s: content hashes to %s: %w", what, digest, ErrDigestMismatch)
	}
	// A small blob put again as it is stored (a signed index that did not
	// change upstream) is only a use: no fsync, rename or transaction.
	if l.Ref == "" && n <= samePutMax {
		if rec, ok := s.storedAs(ctx, f, digest, n, l); ok {
			s.noteUse(digest) // recorded with the next transaction (Flush)
			rec.LastUsed = s.now()
			return rec.blob(digest), nil
		}
	}
	if err := f.Chmod(0o444); err != nil {
		return Blob{}, fmt.Errorf("store: %s: %w", what, err)
	}
	if err := f.Sync(); err != nil {
		return Blob{}, fmt.Errorf("store: %s: sync: %w", what, err)
	}

	var out Blob
	err = s.exclusive(ctx, func(db *bbolt.DB) error {
		if err := os.Rename(tmp, s.blobPath(digest)); err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		}
		if err := syncDir(s.path(blobsDir)); err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		}
		return s.updateTx(db, func(tx *bbolt.Tx) error {
			rec, err := s.recordPut(tx, digest, n, l)
			out = rec.blob(digest)
			if err != nil || l.Ref == "" {
				return err
			}
			return s.addRefTx(tx, l.Ref, []string{digest})
		})
	})
	if err != nil {
		return Blob{}, err
	}
	if fi, err := f.Stat(); err == nil {
		s.markFresh(digest, fi) // fresh.go
	}
	unflock(f)
	f = nil
	return out, nil
}

// recordPut writes or refreshes the record of a blob just put.
func (s *Store) recordPut(tx *bbolt.Tx, digest string, n int64, l Label) (blobRecord, error) {
	b := tx.Bucket(bktBlobs)
	now := s.now()
	var rec blobRecord
	ok, err := getJSON(b, digest, &rec)
	if err != nil || !ok {
		rec = blobRecord{Added: now}
	}
	rec.Size, rec.LastUsed = n, now
	if l.Kind != "" {
		rec.Kind = l.Kind
	}
	if l.Name != "" {
		rec.Name = l.Name
	}
	return rec, putJSON(b, digest, rec)
}

func countString(n, limit int64) string {
	if n > limit {
		return fmt.Sprintf("more than %d", limit)
	}
	return fmt.Sprint(n)
}

// ctxReader stops a copy when its context is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := c.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		err = fmt.Errorf("read: %w", err)
	}
	return n, err
}

// samePutMax bounds the blobs whose put is compared with the stored copy.
const samePutMax = 1 << 20

// storedAs reports whether digest is stored with a record labelled as l
// asks and a file holding exactly the n bytes of f, and returns the
// record. Reading both is cheaper than syncing a new copy.
func (s *Store) storedAs(ctx context.Context, f *os.File, digest string, n int64, l Label) (blobRecord, bool) {
	var rec blobRecord
	found := false
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		var err error
		found, err = getJSON(tx.Bucket(bktBlobs), digest, &rec)
		return err
	})
	if err != nil || !found || rec.Size != n || (l.Kind != "" && rec.Kind != l.Kind) || (l.Name != "" && rec.Name != l.Name) {
		return blobRecord{}, false
	}
	stored, err := os.ReadFile(s.blobPath(digest))
	if err != nil || int64(len(stored)) != n {
		return blobRecord{}, false
	}
	put := make([]byte, n)
	if _, err := f.ReadAt(put, 0); err != nil && !(err == io.EOF && n == 0) {
		return blobRecord{}, false
	}
	return rec, bytes.Equal(stored, put)
}
