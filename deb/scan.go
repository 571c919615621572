package deb

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sort"
)

// A scan is the name table of one Packages file: where each stanza is,
// the name it installs and the names it provides. Resolution needs the
// full fields of only the few hundred packages it touches, so stanzas are
// parsed on demand; the scan is what lets a warm resolve skip reading
// 100+ MB of text. Scans are cached next to the Packages file.
//
// A scan is its encoded form (marshal), read in place: fixed-width records
// and, for each of names and provides, the record numbers in name order,
// so that a lookup is a binary search and loading a cached scan builds no
// map and allocates no string per package.
type scan struct {
	b              []byte // the whole encoding
	n, np, nb      int    // entries, provides, blocks
	entries, provs []byte // n*entrySize, np*provSize
	byName, byProv []byte // n and np uint32: record numbers in name order
	// blocks are the SHA-256 of each scanBlock bytes of the file (the
	// last one shorter), taken from the whole file once it was verified
	// against the signed index: a later run that reads a few hundred
	// stanzas checks the blocks they lie in, not the whole file.
	blocks []byte // nb*sha256.Size
	names  []byte
}

// scanBlock is the unit in which a Packages file's bytes are verified
// after its first use.
const scanBlock = 16 << 10

// blockSums returns the block sums of data, concatenated.
func blockSums(data []byte) []byte {
	nb := (len(data) + scanBlock - 1) / scanBlock
	out := make([]byte, 0, nb*sha256.Size)
	for i := range nb {
		sum := sha256.Sum256(data[i*scanBlock : min((i+1)*scanBlock, len(data))])
		out = append(out, sum[:]...)
	}
	return out
}

// scanEntry is one stanza: its package name, where it is, its flags.
type scanEntry struct {
	name     string
	off, len uint32
	flags    uint8
}

// scanProvide is one name a stanza provides.
type scanProvide struct {
	name  string
	entry uint32
}

const (
	flagEssential uint8 = 1 << iota
	flagRequired
	flagImportant // Priority: important
)

// The encoding, all integers little-endian:
//
//	scanMagic
//	u32 n, np, nb, len(names)
//	n  entries:  u32 name offset, u16 name length, u8 flags, u8 0, u32 off, u32 len
//	np provides: u32 name offset, u16 name length, u16 0, u32 entry
//	n  u32: entry numbers ordered by (name, number)
//	np u32: provide numbers ordered by (name, number)
//	nb block sums of sha256.Size bytes
//	names
const (
	scanMagic  = "rootfsd-deb-scan-v3\n"
	scanHeader = len(scanMagic) + 16
	entrySize  = 16
	provSize   = 12
	maxName    = 1<<16 - 1
)

var le = binary.LittleEndian

func (s *scan) entryName(i int) []byte {
	r := s.entries[i*entrySize:]
	off, n := le.Uint32(r), int(le.Uint16(r[4:]))
	return s.names[off : int(off)+n]
}

// entry returns stanza i.
func (s *scan) entry(i int) scanEntry {
	r := s.entries[i*entrySize:]
	return scanEntry{name: string(s.entryName(i)), flags: r[6], off: le.Uint32(r[8:]), len: le.Uint32(r[12:])}
}

func (s *scan) flags(i int) uint8 { return s.entries[i*entrySize+6] }

func (s *scan) provName(i int) []byte {
	r := s.provs[i*provSize:]
	off, n := le.Uint32(r), int(le.Uint16(r[4:]))
	return s.names[off : int(off)+n]
}

// provide returns provided name i.
func (s *scan) provide(i int) scanProvide {
	return scanProvide{name: string(s.provName(i)), entry: le.Uint32(s.provs[i*provSize+8:])}
}

func (s *scan) block(i int) []byte { return s.blocks[i*sha256.Size : (i+1)*sha256.Size] }

// named returns the numbers of the stanzas whose package is name, in file
// order.
func (s *scan) named(name string) []uint32 {
	return s.lookup(s.byName, s.entryName, name, nil)
}

// providing returns the numbers of the stanzas that provide name, in file
// order (a stanza that lists a name twice, twice).
func (s *scan) providing(name string) []uint32 {
	return s.lookup(s.byProv, s.provName, name, func(i uint32) uint32 { return le.Uint32(s.provs[int(i)*provSize+8:]) })
}

func (s *scan) lookup(order []byte, nameOf func(int) []byte, name string, entry func(uint32) uint32) []uint32 {
	n := len(order) / 4
	at := func(k int) int { return int(le.Uint32(order[k*4:])) }
	lo := sort.Search(n, func(k int) bool { return string(nameOf(at(k))) >= name })
	var out []uint32
	for k := lo; k < n && string(nameOf(at(k))) == name; k++ {
		i := uint32(at(k))
		if entry != nil {
			i = entry(i)
		}
		out = append(out, i)
	}
	return out
}

// maxPackagesFile bounds one uncompressed Packages file (offsets are uint32).
const maxPackagesFile = 1 << 31

// scanPackages builds the table of data, a whole uncompressed Packages
// file, verified: its block sums are taken from it.
func scanPackages(data []byte) (*scan, error) {
	if len(data) >= maxPackagesFile {
		return nil, fmt.Errorf("packages index of %d bytes is larger than the %d byte limit", len(data), maxPackagesFile)
	}
	var (
		entries = make([]scanEntry, 0, len(data)/1500)
		provs   []scanProvide
	)
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
		if len(e.name) > maxName {
			return nil, fmt.Errorf("packages index: stanza at byte %d has a package name of %d bytes", start, len(e.name))
		}
		idx := uint32(len(entries))
		entries = append(entries, e)
		if len(provides) > 0 {
			for _, item := range bytes.Split(provides, []byte(",")) {
				item = bytes.TrimSpace(item)
				if i := bytes.IndexAny(item, " (\t\n"); i >= 0 {
					item = item[:i]
				}
				if len(item) > 0 && len(item) <= maxName {
					provs = append(provs, scanProvide{name: string(item), entry: idx})
				}
			}
		}
	}
	return encodeScan(entries, provs, blockSums(data), len(data))
}

// encodeScan builds the scan of a file of dataLen bytes.
func encodeScan(entries []scanEntry, provides []scanProvide, blocks []byte, dataLen int) (*scan, error) {
	var names int
	for _, e := range entries {
		names += len(e.name)
	}
	for _, p := range provides {
		names += len(p.name)
	}
	if names > math.MaxUint32 {
		return nil, fmt.Errorf("packages index: %d bytes of names", names)
	}
	n, np := len(entries), len(provides)
	b := make([]byte, 0, scanHeader+n*(entrySize+4)+np*(provSize+4)+len(blocks)+names)
	b = append(b, scanMagic...)
	b = le.AppendUint32(b, uint32(n))
	b = le.AppendUint32(b, uint32(np))
	b = le.AppendUint32(b, uint32(len(blocks)/sha256.Size))
	b = le.AppendUint32(b, uint32(names))
	nameAt := 0
	for _, e := range entries {
		b = le.AppendUint32(b, uint32(nameAt))
		b = le.AppendUint16(b, uint16(len(e.name)))
		b = append(b, e.flags, 0)
		b = le.AppendUint32(b, e.off)
		b = le.AppendUint32(b, e.len)
		nameAt += len(e.name)
	}
	for _, p := range provides {
		b = le.AppendUint32(b, uint32(nameAt))
		b = le.AppendUint16(b, uint16(len(p.name)))
		b = le.AppendUint16(b, 0)
		b = le.AppendUint32(b, p.entry)
		nameAt += len(p.name)
	}
	order := func(m int, name func(int) string) {
		idx := make([]int, m)
		for i := range idx {
			idx[i] = i
		}
		sort.SliceStable(idx, func(a, c int) bool { return name(idx[a]) < name(idx[c]) })
		for _, i := range idx {
			b = le.AppendUint32(b, uint32(i))
		}
	}
	order(n, func(i int) string { return entries[i].name })
	order(np, func(i int) string { return provides[i].name })
	b = append(b, blocks...)
	for _, e := range entries {
		b = append(b, e.name...)
	}
	for _, p := range provides {
		b = append(b, p.name...)
	}
	return unmarshalScan(b, dataLen)
}

// marshal returns the scan's encoding.
func (s *scan) marshal() []byte { return s.b }

var errBadScan = errors.New("corrupt package scan table")

// unmarshalScan reads a scan in place from b, checking every name and
// stanza against the tables' and dataLen's bounds (dataLen is the size of
// the Packages file it describes) and that the name orders are orders.
func unmarshalScan(b []byte, dataLen int) (*scan, error) {
	if len(b) < scanHeader || string(b[:len(scanMagic)]) != scanMagic {
		return nil, errBadScan
	}
	h := b[len(scanMagic):]
	n, np, nb, names := uint64(le.Uint32(h)), uint64(le.Uint32(h[4:])), uint64(le.Uint32(h[8:])), uint64(le.Uint32(h[12:]))
	if nb != uint64((dataLen+scanBlock-1)/scanBlock) || n > uint64(dataLen) ||
		uint64(scanHeader)+n*(entrySize+4)+np*(provSize+4)+nb*sha256.Size+names != uint64(len(b)) {
		return nil, errBadScan
	}
	s := &scan{b: b, n: int(n), np: int(np), nb: int(nb)}
	rest := b[scanHeader:]
	take := func(k int) []byte {
		out := rest[:k:k]
		rest = rest[k:]
		return out
	}
	s.entries, s.provs = take(s.n*entrySize), take(s.np*provSize)
	s.byName, s.byProv = take(s.n*4), take(s.np*4)
	s.blocks, s.names = take(s.nb*sha256.Size), rest
	nameOK := func(r []byte) bool {
		return uint64(le.Uint32(r))+uint64(le.Uint16(r[4:])) <= names
	}
	for i := range s.n {
		r := s.entries[i*entrySize:]
		if !nameOK(r) || le.Uint16(r[4:]) == 0 || uint64(le.Uint32(r[8:]))+uint64(le.Uint32(r[12:])) > uint64(dataLen) {
			return nil, errBadScan
		}
	}
	for i := range s.np {
		if r := s.provs[i*provSize:]; !nameOK(r) || uint64(le.Uint32(r[8:])) >= n {
			return nil, errBadScan
		}
	}
	if !isOrder(s.byName, s.n, s.entryName) || !isOrder(s.byProv, s.np, s.provName) {
		return nil, errBadScan
	}
	return s, nil
}

// isOrder reports whether order holds each of 0..m-1 once, by name and
// then by number.
func isOrder(order []byte, m int, name func(int) []byte) bool {
	seen := make([]bool, m)
	prev := -1
	for k := range m {
		i := int(le.Uint32(order[k*4:]))
		if i >= m || seen[i] {
			return false
		}
		seen[i] = true
		if prev >= 0 {
			if c := bytes.Compare(name(prev), name(i)); c > 0 || c == 0 && prev > i {
				return false
			}
		}
		prev = i
	}
	return true
}
