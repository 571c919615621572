package deb

import (
	"archive/tar"
	"bytes"
	"io"
	"strings"
)

// memDeb is a .deb held in memory (a prefetched one, see
// assemble_prefetch.go). Unpack reads its uncompressed data.tar in place
// and lends the tree the bytes of each file instead of copying them.
type memDeb struct {
	*bytes.Reader
	b []byte
}

func newMemDeb(b []byte) *memDeb { return &memDeb{Reader: bytes.NewReader(b), b: b} }

func (*memDeb) Close() error { return nil }

// member returns the bytes of the member whose header h was just read,
// when it is uncompressed and whole in m. The ar reader reads nothing
// ahead of a member's data, so the member starts where m's read offset is.
func (m *memDeb) member(h *ArHeader, ext string) ([]byte, bool) {
	if m == nil || ext != "" {
		return nil, false
	}
	start := int64(len(m.b)) - int64(m.Len())
	if h.Size < 0 || start+h.Size > int64(len(m.b)) {
		return nil, false
	}
	return m.b[start : start+h.Size : start+h.Size], true
}

// sliceReader reads a data.tar held in memory. archive/tar reads headers
// from it block by block and skips file data with Seek, so that right
// after Next the read offset is where the entry's data starts.
type sliceReader struct {
	*bytes.Reader
	b []byte
}

func newSliceReader(b []byte) *sliceReader { return &sliceReader{Reader: bytes.NewReader(b), b: b} }

// lend returns the reader of the entry h that tr just returned: it reads
// from tr as usual and can also lend its bytes (fstree.ContentRef).
func (s *sliceReader) lend(tr *tar.Reader, h *tar.Header) io.Reader {
	if h.Typeflag != tar.TypeReg && h.Typeflag != tar.TypeRegA {
		return tr
	}
	for k := range h.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return tr
		}
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
