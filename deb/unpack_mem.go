package deb

import (
	"archive/tar"
	"bytes"
	"io"
	"os"

	"github.com/rootfsd/rootfsd/repo/fstree"
)

// memDeb is a .deb held in memory (a prefetched one, see
// assemble_prefetch.go). Unpack reads its uncompressed data.tar in place
// and gives the tree each file's bytes without copying them.
//
// Its data.tar is either in the buffer, and the tree borrows its bytes
// (fstree.ContentRef), or, when it is a cached decoded data.tar, left in
// that file: the buffer then holds an empty data.tar member at dataAt,
// which stands for the dataSize bytes of dataFile, and the tree refers to
// the file (fstree.ContentAt) - nothing of it is read into memory.
type memDeb struct {
	*bytes.Reader
	b        []byte
	dataFile *os.File
	dataAt   int64
	dataSize int64
}

func newMemDeb(b []byte) *memDeb { return &memDeb{Reader: bytes.NewReader(b), b: b} }

func (*memDeb) Close() error { return nil }

// member returns the reader of the data member whose header h was just
// read, when it is uncompressed and whole in m (a buffer) or stands for
// m's data file, and its size. The ar reader reads nothing ahead of a
// member's data, so the member starts where m's read offset is.
func (m *memDeb) member(h *ArHeader, ext string) (r io.Reader, size int64, ok bool) {
	if m == nil || ext != "" {
		return nil, 0, false
	}
	start := int64(len(m.b)) - int64(m.Len())
	if m.dataFile != nil && start == m.dataAt && h.Size == 0 {
		return fstree.NewTarFile(m.dataFile, 0, m.dataSize), m.dataSize, true
	}
	if h.Size < 0 || start+h.Size > int64(len(m.b)) {
		return nil, 0, false
	}
	return newSliceReader(m.b[start : start+h.Size : start+h.Size]), h.Size, true
}

// inPlace is a data.tar reader whose file contents the tree can take
// without a copy: sliceReader, fstree.TarFile.
type inPlace interface {
	io.Reader
	Content(tr *tar.Reader, h *tar.Header) io.Reader
}

// sliceReader reads a data.tar held in memory. archive/tar reads headers
// from it block by block and skips file data with Seek, so that right
// after Next the read offset is where the entry's data starts.
type sliceReader struct {
	*bytes.Reader
	b []byte
}

func newSliceReader(b []byte) *sliceReader { return &sliceReader{Reader: bytes.NewReader(b), b: b} }

// Content returns the reader of the entry h that tr just returned: it
// reads from tr as usual and can also lend its bytes (fstree.ContentRef).
func (s *sliceReader) Content(tr *tar.Reader, h *tar.Header) io.Reader {
	if !fstree.StoredWhole(h) {
		return tr
	}
	return &lentContent{Reader: tr, b: s.b, off: int64(len(s.b)) - int64(s.Len()), size: h.Size}
}

// lentContent is one file's content in a data.tar in memory.
type lentContent struct {
	io.Reader
	b         []byte
	off, size int64
}

// ContentRef lends the tree the file's bytes: they are never written to
// again (the buffer is the prefetched .deb's, used for nothing else).
func (c *lentContent) ContentRef(n int64) ([]byte, bool) {
	if n != c.size || c.off < 0 || c.off+n > int64(len(c.b)) {
		return nil, false
	}
	return c.b[c.off : c.off+n : c.off+n], true
}
