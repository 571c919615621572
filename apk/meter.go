package apk

import (
	"fmt"
	"io"
)

// meter is the byte source of the gzip readers of an .apk. It implements
// io.ByteReader, so compress/gzip and compress/flate read exactly one
// member from it and buffer nothing of the next; every byte consumed is
// counted and copied to the current sink, which hashes the raw compressed
// bytes of a member. Bytes go to the sink in chunks (when the buffer is
// refilled or the sink changes), not one call per byte.
type meter struct {
	src  io.Reader
	buf  []byte
	r, w int
	mark int       // buf[mark:r] is consumed but not yet given to sink
	sink io.Writer // nil: consumed bytes are only counted
	n    int64     // bytes consumed
	max  int64
	err  error
}

func newMeter(src io.Reader, max int64) *meter {
	return &meter{src: src, buf: make([]byte, 64<<10), max: max}
}

// flush hands the consumed bytes to the sink.
func (m *meter) flush() {
	if m.sink != nil && m.mark < m.r {
		m.sink.Write(m.buf[m.mark:m.r]) // hashes never fail
	}
	m.mark = m.r
}

// setSink switches the sink at a member boundary.
func (m *meter) setSink(w io.Writer) {
	m.flush()
	m.sink = w
}

func (m *meter) fill() error {
	if m.err != nil {
		return m.err
	}
	m.flush()
	m.r, m.w, m.mark = 0, 0, 0
	for tries := 0; m.w == 0; tries++ {
		n, err := m.src.Read(m.buf)
		m.w = n
		if err != nil {
			if n == 0 {
				m.err = err
				return err
			}
			m.err = err // returned once the buffer is used up
		}
		if n == 0 && tries > 100 {
			m.err = io.ErrNoProgress
			return m.err
		}
	}
	return nil
}

func (m *meter) take(n int) error {
	m.r += n
	m.n += int64(n)
	if m.n > m.max {
		return fmt.Errorf("package file: %w of %d bytes", ErrTooLarge, m.max)
	}
	return nil
}

func (m *meter) ReadByte() (byte, error) {
	if m.r == m.w {
		if err := m.fill(); err != nil {
			return 0, err
		}
	}
	c := m.buf[m.r]
	return c, m.take(1)
}

func (m *meter) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if m.r == m.w {
		if err := m.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(p, m.buf[m.r:m.w])
	return n, m.take(n)
}

// atEOF reports whether the source is exhausted.
func (m *meter) atEOF() bool {
	if m.r < m.w {
		return false
	}
	return m.fill() == io.EOF
}
