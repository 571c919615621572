package store

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"
)

// fileID identifies one state of a blob file: a blob replaced by a rename,
// changed in place or chmodded to be changed has another.
type fileID struct {
	dev, ino     uint64
	size         int64
	mtime, ctime syscall.Timespec
}

func idOf(fi os.FileInfo) (fileID, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}, false
	}
	return fileID{dev: uint64(st.Dev), ino: st.Ino, size: st.Size, mtime: st.Mtim, ctime: st.Ctim}, true
}

// markFresh records that this process wrote or fully verified the blob
// file fi describes.
func (s *Store) markFresh(digest string, fi os.FileInfo) {
	id, ok := idOf(fi)
	if !ok {
		return
	}
	s.freshMu.Lock()
	defer s.freshMu.Unlock()
	if s.fresh == nil {
		s.fresh = map[string]fileID{}
	}
	s.fresh[digest] = id
}

// OpenForCopy opens a blob to copy it whole, such as to an output file.
// When this process wrote or fully verified that very file (same device,
// inode, size, modification and change time: a rename over it, a write to
// it or the chmod a write needs all change one of them), it returns the
// bare file, so that io.Copy to a file stays in the kernel
// (copy_file_range) and the content is not hashed a second time; else it
// is Open, which verifies.
func (s *Store) OpenForCopy(ctx context.Context, digest string) (io.ReadCloser, error) {
	d, err := ParseDigest(digest)
	if err != nil {
		return nil, err
	}
	if f := s.freshFile(d); f != nil {
		return f, nil
	}
	return s.Open(ctx, d)
}

// OpenFile returns the blob as an open file holding exactly its verified
// bytes (repo.FileCache): the very file this process wrote or verified as
// it is, any other once hashed through the returned descriptor and found
// unchanged by the read. A damaged blob is quarantined, as by Open.
func (s *Store) OpenFile(ctx context.Context, digest string) (*os.File, error) {
	d, err := ParseDigest(digest)
	if err != nil {
		return nil, err
	}
	if f := s.freshFile(d); f != nil {
		return f, nil
	}
	rc, err := s.Open(ctx, d)
	if err != nil {
		return nil, err
	}
	v := rc.(*verifier)
	ok := false
	defer func() {
		if !ok {
			_ = v.f.Close()
		}
	}()
	// (io.Discard as is would read through its own small buffer.)
	buf := copyBufs.Get().(*[]byte)
	_, err = io.CopyBuffer(struct{ io.Writer }{io.Discard}, v, *buf)
	copyBufs.Put(buf)
	if err != nil {
		return nil, err
	}
	if after, err := v.f.Stat(); err != nil || !sameID(v.fi, after) {
		return nil, fmt.Errorf("store: blob %s: changed while it was verified: %w", d, ErrCorrupt)
	}
	if _, err := v.f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("store: blob %s: %w", d, err)
	}
	ok = true
	return v.f, nil
}

// freshFile opens the blob when this process wrote or verified that very
// file, and notes the use; nil otherwise.
func (s *Store) freshFile(d string) *os.File {
	s.freshMu.Lock()
	want, ok := s.fresh[d]
	s.freshMu.Unlock()
	if !ok {
		return nil
	}
	f, err := os.Open(s.blobPath(d))
	if err != nil {
		return nil
	}
	if fi, err := f.Stat(); err == nil {
		if got, ok := idOf(fi); ok && got == want {
			s.noteUse(d)
			return f
		}
	}
	_ = f.Close()
	return nil
}

// copyBufs are the buffers OpenFile hashes through.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, copyBufSize); return &b }}

// sameID reports whether a and b describe one state of one file.
func sameID(a, b os.FileInfo) bool {
	ia, ok1 := idOf(a)
	ib, ok2 := idOf(b)
	return ok1 && ok2 && ia == ib
}
