package deb

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
)

// A scan is the name table of one Packages file: where each stanza is,
// the name it installs and the names it provides. Resolution needs the
// full fields of only the few hundred packages it touches, so stanzas are
// parsed on demand; the scan is what lets a warm resolve skip reading
// 100+ MB of text. Scans are cached next to the Packages file.
type scan struct {
	entries  []scanEntry
	provides []scanProvide
	// blocks are the SHA-256 of each scanBlock bytes of the file (the
	// last one shorter), taken from the whole file once it was verified
	// against the signed index: a later run that reads a few hundred
	// stanzas checks the blocks they lie in, not the whole file.
	blocks [][sha256.Size]byte
}

// scanBlock is the unit in which a Packages file's bytes are verified
// after its first use.
const scanBlock = 16 << 10

// blockSums returns the scan.blocks of data.
func blockSums(data []byte) [][sha256.Size]byte {
	out := make([][sha256.Size]byte, (len(data)+scanBlock-1)/scanBlock)
	for i := range out {
		out[i] = sha256.Sum256(data[i*scanBlock : min((i+1)*scanBlock, len(data))])
	}
	return out
}

type scanEntry struct {
	name     string
	off, len uint32
	flags    uint8
}

type scanProvide struct {
	name  string
	entry uint32
}

const (
	flagEssential uint8 = 1 << iota
	flagRequired
	flagImportant // Priority: important
)

// maxPackagesFile bounds one uncompressed Packages file (offsets are uint32).
const maxPackagesFile = 1 << 31

// scanPackages builds the table of data, a whole uncompressed Packages
// file, verified: its block sums are taken from it.
func scanPackages(data []byte) (*scan, error) {
	if len(data) >= maxPackagesFile {
		return nil, fmt.Errorf("packages index of %d bytes is larger than the %d byte limit", len(data), maxPackagesFile)
	}
	s := &scan{entries: make([]scanEntry, 0, len(data)/1500), blocks: blockSums(data)}
	pos := 0
	for pos < len(data) {
		// Skip blank lines between stanzas.
		for pos < len(data) && (data[pos] == '\n' || data[pos] == '\r') {
			pos++
		}
		if pos >= len(data) {
			break
		}
		start := pos
		var e scanEntry
		var provides []byte
		for pos < len(data) {
			end := bytes.IndexByte(data[pos:], '\n')
			var line []byte
			if end < 0 {
				line, end = data[pos:], len(data)
			} else {
				line, end = data[pos:pos+end], pos+end
			}
			if len(bytes.TrimRight(line, " \t\r")) == 0 {
				break
			}
			switch line[0] {
			case 'P':
				switch {
				case bytes.HasPrefix(line, []byte("Package:")):
					e.name = string(bytes.TrimSpace(line[8:]))
				case bytes.HasPrefix(line, []byte("Provides:")):
					provides = line[9:]
					// Continuation lines extend the field.
					for end+1 < len(data) && (data[end+1] == ' ' || data[end+1] == '\t') {
						next := bytes.IndexByte(data[end+1:], '\n')
						if next < 0 {
							next = len(data) - end - 1
						}
						provides = data[pos+9 : end+1+next]
						end = end + 1 + next
					}
				case bytes.HasPrefix(line, []byte("Priority:")):
					switch string(bytes.TrimSpace(line[9:])) {
					case "required":
						e.flags |= flagRequired
					case "important":
						e.flags |= flagImportant
					}
				}
			case 'E':
				if bytes.HasPrefix(line, []byte("Essential:")) && string(bytes.TrimSpace(line[10:])) == "yes" {
					e.flags |= flagEssential
				}
			}
			pos = end + 1
		}
		stop := pos
		if stop > len(data) {
			stop = len(data)
		}
		// Trim the trailing newline of the last field line.
		for stop > start && (data[stop-1] == '\n' || data[stop-1] == '\r') {
			stop--
		}
		if e.name == "" {
			return nil, fmt.Errorf("packages index: stanza at byte %d has no Package field", start)
		}
		e.off, e.len = uint32(start), uint32(stop-start)
		idx := uint32(len(s.entries))
		s.entries = append(s.entries, e)
		if len(provides) > 0 {
			for _, item := range bytes.Split(provides, []byte(",")) {
				item = bytes.TrimSpace(item)
				if i := bytes.IndexAny(item, " (\t\n"); i >= 0 {
					item = item[:i]
				}
				if len(item) > 0 {
					s.provides = append(s.provides, scanProvide{name: string(item), entry: idx})
				}
			}
		}
	}
	return s, nil
}

const scanMagic = "rootfsd-deb-scan-v2\n"

// marshal encodes the scan compactly (uvarints and length-prefixed names).
func (s *scan) marshal() []byte {
	b := make([]byte, 0, len(s.entries)*24+len(s.provides)*16)
	b = append(b, scanMagic...)
	b = binary.AppendUvarint(b, uint64(len(s.entries)))
	for _, e := range s.entries {
		b = binary.AppendUvarint(b, uint64(len(e.name)))
		b = append(b, e.name...)
		b = binary.AppendUvarint(b, uint64(e.off))
		b = binary.AppendUvarint(b, uint64(e.len))
		b = append(b, e.flags)
	}
	b = binary.AppendUvarint(b, uint64(len(s.provides)))
	for _, p := range s.provides {
		b = binary.AppendUvarint(b, uint64(len(p.name)))
		b = append(b, p.name...)
		b = binary.AppendUvarint(b, uint64(p.entry))
	}
	b = binary.AppendUvarint(b, uint64(len(s.blocks)))
	for _, sum := range s.blocks {
		b = append(b, sum[:]...)
	}
	return b
}

var errBadScan = errors.New("corrupt package scan table")

// unmarshalScan decodes marshal's output, checking every offset against
// dataLen, the size of the Packages file it describes.
func unmarshalScan(b []byte, dataLen int) (*scan, error) {
	if !bytes.HasPrefix(b, []byte(scanMagic)) {
		return nil, errBadScan
	}
	r := scanReader{b: b[len(scanMagic):]}
	n := r.uvarint()
	if n > uint64(dataLen) {
		return nil, errBadScan
	}
	s := &scan{entries: make([]scanEntry, n)}
	for i := range s.entries {
		e := &s.entries[i]
		e.name = r.str()
		e.off, e.len = uint32(r.uvarint()), uint32(r.uvarint())
		e.flags = r.byte()
		if uint64(e.off)+uint64(e.len) > uint64(dataLen) {
			r.err = errBadScan
		}
	}
	np := r.uvarint()
	if np > uint64(len(b)) {
		return nil, errBadScan
	}
	s.provides = make([]scanProvide, np)
	for i := range s.provides {
		s.provides[i].name = r.str()
		s.provides[i].entry = uint32(r.uvarint())
		if uint64(s.provides[i].entry) >= n {
			r.err = errBadScan
		}
	}
	if nb := r.uvarint(); nb != uint64((dataLen+scanBlock-1)/scanBlock) || nb*sha256.Size != uint64(len(r.b)) {
		return nil, errBadScan
	}
	s.blocks = make([][sha256.Size]byte, len(r.b)/sha256.Size)
	for i := range s.blocks {
		copy(s.blocks[i][:], r.b[i*sha256.Size:])
	}
	r.b = nil
	if r.err != nil || len(r.b) != 0 {
		return nil, errBadScan
	}
	return s, nil
}

type scanReader struct {
	b   []byte
	err error
}

func (r *scanReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err, r.b = errBadScan, nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *scanReader) byte() byte {
	if len(r.b) == 0 {
		r.err = errBadScan
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *scanReader) str() string {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.err, r.b = errBadScan, nil
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}
