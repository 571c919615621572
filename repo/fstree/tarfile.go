package fstree

import (
	"archive/tar"
	"bufio"
	"errors"
	"io"
)

// TarFile reads a tar that lies in a file (or part of one) so that a tree
// can refer to its file contents in place (ContentAt) rather than copy
// them: give it to tar.NewReader, and Content's reader to Add. It counts
// the bytes it delivers, which right after tar.Reader.Next is where the
// entry's data starts, because archive/tar reads nothing ahead; and it
// seeks forward, so that archive/tar skips file data without reading it.
// The file must not change while a tree refers to it (Tree.Retain).
type TarFile struct {
	ra   io.ReaderAt
	base int64 // where the tar starts in ra
	sr   *io.SectionReader
	br   *bufio.Reader
	pos  int64 // bytes delivered, from the tar's start
}

// tarFileBuf is small: headers and small files are read through it, and
// it is refilled after each skip over a large file's data.
const tarFileBuf = 16 << 10

// NewTarFile reads the size bytes of ra from off as a tar.
func NewTarFile(ra io.ReaderAt, off, size int64) *TarFile {
	sr := io.NewSectionReader(ra, off, size)
	return &TarFile{ra: ra, base: off, sr: sr, br: bufio.NewReaderSize(sr, tarFileBuf)}
}

func (t *TarFile) Read(p []byte) (int, error) {
	n, err := t.br.Read(p)
	t.pos += int64(n)
	return n, err
}

// Seek moves forward from the current offset only; archive/tar asks for
// nothing else.
func (t *TarFile) Seek(off int64, whence int) (int64, error) {
	if whence != io.SeekCurrent || off < 0 {
		return -1, errors.New("fstree: TarFile seeks only forward")
	}
	if b := int64(t.br.Buffered()); off > b {
		// Past the buffer: skip it, move the section, read anew from there.
		if _, err := t.sr.Seek(t.pos+off, io.SeekStart); err != nil {
			return -1, err
		}
		t.br.Reset(t.sr)
		t.pos += off
		return t.pos, nil
	}
	n, _ := t.br.Discard(int(off))
	t.pos += int64(n)
	return t.pos, nil
}

// Content returns the reader of the entry h that tr (reading t) has just
// returned: it reads from tr, and a file stored whole offers its bytes in
// place (ContentAt).
func (t *TarFile) Content(tr *tar.Reader, h *tar.Header) io.Reader {
	if !StoredWhole(h) {
		return tr
	}
	return &tarFileContent{Reader: tr, ra: t.ra, off: t.base + t.pos, size: h.Size}
}

type tarFileContent struct {
	io.Reader
	ra        io.ReaderAt
	off, size int64
}

func (c *tarFileContent) ContentAt(n int64) (io.ReaderAt, int64, bool) {
	return c.ra, c.off, n == c.size
}
