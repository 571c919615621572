package fstree

import (
	"fmt"
	"io"
	"os"
)

// spool holds the content of files too large to keep inline: one temporary
// file, unlinked as soon as it is created so that nothing is left behind
// even when the process dies, written append-only with WriteAt and read
// back with ReadAt. Space of replaced or removed files is not reclaimed:
// a tree is built once and written out once.
type spool struct {
	dir string
	f   *os.File
	end int64
	buf []byte
}

const spoolBuf = 256 << 10

// write appends exactly size bytes from r and returns their offset. A
// reader that ends early is an error, and the partial bytes are left
// unreferenced.
func (s *spool) write(r io.Reader, size int64) (int64, error) {
	if s.f == nil {
		f, err := os.CreateTemp(s.dir, "fstree-spool-*")
		if err != nil {
			return 0, fmt.Errorf("create spool file: %w", err)
		}
		if err := os.Remove(f.Name()); err != nil {
			f.Close()
			return 0, fmt.Errorf("unlink spool file: %w", err)
		}
		s.f = f
		s.buf = make([]byte, spoolBuf)
	}
	off := s.end
	for done := int64(0); done < size; {
		chunk := s.buf
		if rest := size - done; rest < int64(len(chunk)) {
			chunk = chunk[:rest]
		}
		n, err := io.ReadFull(r, chunk)
		if n > 0 {
			if _, werr := s.f.WriteAt(chunk[:n], off+done); werr != nil {
				return 0, fmt.Errorf("write spool file: %w", werr)
			}
			done += int64(n)
		}
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return 0, fmt.Errorf("content ends after %d of %d bytes: %w", done, size, err)
		}
	}
	s.end += size
	return off, nil
}

// size is how many bytes the spool file holds.
func (s *spool) size() int64 { return s.end }

func (s *spool) close() error {
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}
