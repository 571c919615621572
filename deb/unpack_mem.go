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
// and gives the tree each file's bytes without copying them: where the
// data.tar is also the whole of a file (dataFile, a cached decoded
// data.tar), the tree refers to the file and the buffer can go; else it
// borrows the buffer's bytes.
type memDeb struct {
	*bytes.Reader
	b []byte
	// dataFile holds exactly the bytes of the data.tar member that
	// starts at dataAt in b; nil when there is none.
	dataFile *os.File
	dataAt   int64
}

func newMemDeb(b []byte) *memDeb { return &memDeb{Reader: bytes.NewReader(b), b: b} }

func (*memDeb) Close() error { return nil }

// member returns the bytes of the member whose header h was just read,
// when it is uncompressed and whole in m, and the file that holds the
// same bytes, if any. The ar reader reads nothing ahead of a member's
// data, so the member starts where m's read offset is.
func (m *memDeb) member(h *ArHeader, ext string) ([]byte, *os.File, bool) {
	if m == nil || ext != "" {
		return nil, nil, false
	}
	start := int64(len(m.b)) - int64(m.Len())
	if h.Size < 0 || start+h.Size > int64(len(m.b)) {
		return nil, nil, false
	}
	var f *os.File
	if m.dataFile != nil && start == m.dataAt {
		f = m.dataFile
	}
	return m.b[start : start+h.Size : start+h.Size], f, true
}

// sliceReader reads a data.tar held in memory. archive/tar reads headers
// from it block by block and skips file data with Seek, so that right
// after Next the read offset is where the entry's data starts.
type sliceReader struct {
	*bytes.Reader
	b    []byte
	file *os.File // holds the same bytes as b, or nil
}

func newSliceReader(b []byte, file *os.File) *sliceReader {
	return &sliceReader{Reader: bytes.NewReader(b), b: b, file: file}
}

// lend returns the reader of the entry h that tr just returned: it reads
// from tr as usual and can also give the tree its bytes in place
// (fstree.ContentAt, fstree.ContentRef).
func (s *sliceReader) lend(tr *tar.Reader, h *tar.Header) io.Reader {
	if !fstree.StoredWhole(h) {
		return tr
	}
	return &lentContent{Reader: tr, b: s.b, file: s.file, off: int64(len(s.b)) - int64(s.Len()), size: h.Size}
}

// lentContent is one file's content in a data.tar in memory.
type lentContent struct {
	io.Reader
	b         []byte
	file      *os.File
	off, size int64
}

func (c *lentContent) inBounds(n int64) bool {
	return n == c.size && c.off >= 0 && c.off+n <= int64(len(c.b))
}

// ContentAt refers the tree to the file's bytes in the cached data.tar
// file, which the tree retains (see assembler.unpack).
func (c *lentContent) ContentAt(n int64) (io.ReaderAt, int64, bool) {
	if c.file == nil || !c.inBounds(n) {
		return nil, 0, false
	}
	return c.file, c.off, true
}

// ContentRef lends the tree the file's bytes: they are never written to
// again (the buffer is the prefetched .deb's, used for nothing else).
func (c *lentContent) ContentRef(n int64) ([]byte, bool) {
	if !c.inBounds(n) {
		return nil, false
	}
	return c.b[c.off : c.off+n : c.off+n], true
}
