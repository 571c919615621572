package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"strconv"

	"go.etcd.io/bbolt"

	"github.com/rootfsd/rootfsd/repo"
)

// Open returns a reader of the blob with digest that hashes what it reads.
// The Read that reaches the end returns an error wrapping ErrCorrupt when
// the content does not match, and the blob is moved to quarantine so that
// the next run fetches it again; Close does the same check when every byte
// was read but the end was not seen. A reader closed early checks nothing.
// A missing blob is repo.ErrNotCached. Open implements repo.Cache.
func (s *Store) Open(ctx context.Context, digest string) (io.ReadCloser, error) {
	d, err := ParseDigest(digest)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(s.blobPath(d))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("store: blob %s: %w", d, repo.ErrNotCached)
	}
	if err != nil {
		return nil, fmt.Errorf("store: blob %s: %w", d, err)
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("store: blob %s: %w", d, err)
	}
	s.noteUse(d)
	return &verifier{s: s, ctx: ctx, f: f, fi: fi, digest: d, h: sha256.New()}, nil
}

// verifier is the reader Open returns.
type verifier struct {
	s      *Store
	ctx    context.Context
	f      *os.File
	fi     os.FileInfo
	digest string
	h      hash.Hash
	n      int64
	done   bool  // the end was reached and checked
	err    error // sticky result of the check
}

func (v *verifier) Read(p []byte) (int, error) {
	if v.done {
		if v.err != nil {
			return 0, v.err
		}
		return 0, io.EOF
	}
	if err := v.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := v.f.Read(p)
	v.h.Write(p[:n])
	v.n += int64(n)
	if errors.Is(err, io.EOF) {
		if cerr := v.check(); cerr != nil {
			return n, cerr
		}
		return n, io.EOF
	}
	if err != nil {
		return n, fmt.Errorf("store: blob %s: %w", v.digest, err)
	}
	return n, nil
}

// check compares the hash at the end of the content.
func (v *verifier) check() error {
	v.done = true
	got := hex.EncodeToString(v.h.Sum(nil))
	if got == v.digest {
		v.s.markFresh(v.digest, v.fi) // fresh.go
		return nil
	}
	v.err = fmt.Errorf("store: blob %s: content hashes to %s: %w", v.digest, got, ErrCorrupt)
	if qerr := v.s.quarantine(v.ctx, v.digest, v.fi); qerr != nil {
		v.err = errors.Join(v.err, qerr)
	}
	return v.err
}

// Close closes the file. When every byte was read but no Read reported
// the end, Close performs the check and returns its error.
func (v *verifier) Close() error {
	var err error
	if !v.done && v.n == v.fi.Size() {
		var b [1]byte
		if n, rerr := v.f.Read(b[:]); n == 0 && errors.Is(rerr, io.EOF) {
			err = v.check()
		}
	}
	if cerr := v.f.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("store: blob %s: %w", v.digest, cerr)
	}
	return err
}

// quarantine moves a damaged blob out of blobs/ and drops its records, but
// only if the file is still the one that was read: a concurrent Put may
// have replaced it with good content meanwhile.
func (s *Store) quarantine(ctx context.Context, digest string, bad os.FileInfo) error {
	if s.opt.ReadOnly {
		return nil
	}
	ctx = context.WithoutCancel(ctx)
	return s.exclusive(ctx, func(db *bbolt.DB) error {
		p := s.blobPath(digest)
		fi, err := os.Stat(p)
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("store: quarantine %s: %w", digest, err)
		}
		if !os.SameFile(fi, bad) {
			return nil
		}
		if err := s.moveToQuarantine(p, digest); err != nil {
			return err
		}
		return s.updateTx(db, func(tx *bbolt.Tx) error { return dropDigests(tx, map[string]bool{digest: true}, false) })
	})
}

// moveToQuarantine renames p into quarantine/, keeping it for inspection
// until Prune removes it.
func (s *Store) moveToQuarantine(p, name string) error {
	q := s.path(quarantineDir, name+"."+strconv.FormatInt(s.opt.Now().UnixNano(), 10))
	if err := os.Rename(p, q); err != nil {
		return fmt.Errorf("store: quarantine %s: %w", name, err)
	}
	// The rename changes the quarantined file's ctime, not its mtime; set
	// the mtime so that quarantine retention counts from now.
	now := s.opt.Now()
	_ = os.Chtimes(q, now, now)
	return syncDir(s.path(blobsDir))
}
