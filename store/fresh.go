package store

import (
	"context"
	"io"
	"os"
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
	s.freshMu.Lock()
	want, ok := s.fresh[d]
	s.freshMu.Unlock()
	if ok {
		if f, err := os.Open(s.blobPath(d)); err == nil {
			if fi, err := f.Stat(); err == nil {
				if got, ok := idOf(fi); ok && got == want {
					s.noteUse(d)
					return f, nil
				}
			}
			_ = f.Close()
		}
	}
	return s.Open(ctx, d)
}
