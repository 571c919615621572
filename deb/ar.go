package deb

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
)

// The ar(1) format as dpkg-deb reads it: the magic "!<arch>\n", then for
// each member a 60-byte header (name 16, mtime 12, uid 6, gid 6, mode 8,
// size 10, "`\n"), the content, and a '\n' pad to an even offset. Names are
// space-padded and may end in '/' (GNU); long-name tables and BSD "#1/"
// names are not used by .deb files and are refused.
const (
	arMagic      = "!<arch>\n"
	arHeaderSize = 60
	// DefaultArMaxMember bounds one member's size.
	DefaultArMaxMember = 16 << 30
	arMaxMembers       = 64
)

// ErrAr is the error of a malformed ar archive.
var ErrAr = errors.New("malformed ar archive")

// ArHeader is one member of an ar archive.
type ArHeader struct {
	Name    string
	ModTime time.Time
	UID     int
	GID     int
	Mode    uint32
	Size    int64
}

// ArReader reads an ar archive as a stream, member by member, like
// archive/tar's Reader.
type ArReader struct {
	r         io.Reader
	maxMember int64
	remaining int64 // unread bytes of the current member
	pad       bool  // a pad byte follows the current member
	members   int
	err       error
}

// NewArReader checks the magic of r and returns a reader of its members,
// each at most maxMember bytes (0 means DefaultArMaxMember).
func NewArReader(r io.Reader, maxMember int64) (*ArReader, error) {
	var magic [len(arMagic)]byte
	if _, err := io.ReadFull(r, magic[:]); err != nil {
		return nil, truncated("magic", err)
	}
	if string(magic[:]) != arMagic {
		return nil, fmt.Errorf("ar: bad magic %q: %w", magic[:], ErrAr)
	}
	if maxMember <= 0 {
		maxMember = DefaultArMaxMember
	}
	return &ArReader{r: r, maxMember: maxMember}, nil
}

// Next skips what is left of the current member and returns the next
// header; io.EOF when the archive ends cleanly.
func (a *ArReader) Next() (*ArHeader, error) {
	if a.err != nil {
		return nil, a.err
	}
	h, err := a.next()
	if err != nil {
		a.err = err
	}
	return h, err
}

func (a *ArReader) next() (*ArHeader, error) {
	skip := a.remaining
	if a.pad {
		skip++
	}
	if skip > 0 {
		n, err := io.CopyN(io.Discard, a.r, skip)
		// The pad byte after the last member is sometimes missing.
		if err == io.EOF && n == skip-1 && a.pad {
			return nil, io.EOF
		}
		if err != nil {
			return nil, truncated("skipping member", err)
		}
	}
	a.remaining, a.pad = 0, false
	var b [arHeaderSize]byte
	if n, err := io.ReadFull(a.r, b[:]); err != nil {
		if err == io.EOF && n == 0 {
			return nil, io.EOF
		}
		return nil, truncated("member header", err)
	}
	if a.members++; a.members > arMaxMembers {
		return nil, fmt.Errorf("ar: more than %d members: %w", arMaxMembers, ErrAr)
	}
	h, err := parseArHeader(b[:], a.maxMember)
	if err != nil {
		return nil, fmt.Errorf("ar: member %d: %w", a.members, err)
	}
	a.remaining, a.pad = h.Size, h.Size%2 == 1
	return h, nil
}

// Read reads from the current member.
func (a *ArReader) Read(p []byte) (int, error) {
	if a.remaining <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > a.remaining {
		p = p[:a.remaining]
	}
	n, err := a.r.Read(p)
	a.remaining -= int64(n)
	if err == io.EOF && a.remaining > 0 {
		err = io.ErrUnexpectedEOF
	}
	if err == io.EOF {
		err = nil
	}
	if err != nil {
		a.err = truncated("member content", err)
		return n, a.err
	}
	return n, nil
}

func parseArHeader(b []byte, maxMember int64) (*ArHeader, error) {
	if string(b[58:60]) != "`\n" {
		return nil, fmt.Errorf("bad header terminator %q: %w", b[58:60], ErrAr)
	}
	name := string(bytes.TrimRight(b[0:16], " "))
	if len(name) > 1 && name[len(name)-1] == '/' {
		name = name[:len(name)-1]
	}
	if name == "" || name[0] == '/' || name[0] == '#' {
		return nil, fmt.Errorf("unsupported member name %q: %w", name, ErrAr)
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c <= ' ' || c >= 0x7f || c == '/' {
			return nil, fmt.Errorf("bad member name %q: %w", name, ErrAr)
		}
	}
	h := &ArHeader{Name: name}
	var mtime, mode int64
	var err error
	fields := []struct {
		what string
		b    []byte
		base int
		max  int64
		v    *int64
	}{
		{"mtime", b[16:28], 10, 1<<62 - 1, &mtime},
		{"size", b[48:58], 10, maxMember, &h.Size},
		{"mode", b[40:48], 8, 1<<32 - 1, &mode},
	}
	for _, f := range fields {
		if *f.v, err = arNumber(f.b, f.base, f.max); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", name, f.what, err)
		}
	}
	uid, err := arNumber(b[28:34], 10, 1<<31-1)
	if err == nil {
		h.UID = int(uid)
		var gid int64
		gid, err = arNumber(b[34:40], 10, 1<<31-1)
		h.GID = int(gid)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: owner: %w", name, err)
	}
	h.ModTime, h.Mode = time.Unix(mtime, 0).UTC(), uint32(mode)
	return h, nil
}

// arNumber parses a space-padded decimal or octal field; blank is 0.
func arNumber(b []byte, base int, max int64) (int64, error) {
	s := string(bytes.TrimRight(b, " "))
	if s == "" {
		return 0, nil
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] >= '0'+byte(base) {
			return 0, fmt.Errorf("bad number %q: %w", s, ErrAr)
		}
	}
	v, err := strconv.ParseInt(s, base, 64)
	if err != nil {
		return 0, fmt.Errorf("bad number %q: %w", s, ErrAr)
	}
	if v > max {
		return 0, fmt.Errorf("%d exceeds the limit of %d: %w", v, max, ErrAr)
	}
	return v, nil
}

// truncated names a short archive as malformed; other read errors are
// the reader's own and pass through unchanged.
func truncated(what string, err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf("ar: %s: %w: %w", what, ErrAr, io.ErrUnexpectedEOF)
	}
	return fmt.Errorf("ar: %s: %w", what, err)
}
