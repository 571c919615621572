package deb

import (
	"bytes"
	"encoding/binary"
	"sort"
)

// The ld.so.cache format glibc 2.32 and later write by default ("new"
// format only, "glibc-ld.so.cache1.1"):
//
//	header (48 bytes): magic "glibc-ld.so.cache", version "1.1",
//	    nlibs, len_strings, flags (2: little endian, 3: big), 3 unused
//	    bytes, extension_offset, 12 unused bytes
//	nlibs entries (24 bytes): flags, key (soname) and value (path) as
//	    offsets into the file, osversion (the ELF ABI tag's kernel
//	    version before glibc 2.36, 0 since), hwcap (uint64)
//	the string table, with shared suffixes ("tail merging")
//	zero padding to a multiple of 4
//	the extension directory: magic 0xEAA42174, count, then per section
//	    tag, flags, offset, size; section 0 is the generator string
//	    ("ldconfig (Ubuntu GLIBC 2.39-0ubuntu8.12) stable release
//	    version 2.39"), written without NUL at the end of the file
//
// Entries are sorted as ldconfig sorts them, so the bytes equal ldconfig's.

const (
	ldCacheMagic       = "glibc-ld.so.cache1.1"
	ldCacheHeader      = 48
	ldCacheEntry       = 24
	ldCacheExtMagic    = 0xEAA42174
	ldCacheTagGenerate = 0
)

// ldEntry is one library in the cache.
type ldEntry struct {
	soname    string // key
	path      string // value: directory + "/" + soname
	flags     int32
	osversion uint32 // glibc before 2.36 only
	hwcap     uint64
}

// ldLibCmp is glibc's _dl_cache_libcmp: runs of digits compare as numbers.
func ldLibCmp(p1, p2 string) int {
	i, j := 0, 0
	for i < len(p1) {
		switch {
		case isDigit(p1[i]):
			if j >= len(p2) || !isDigit(p2[j]) {
				return 1
			}
			v1, v2 := 0, 0
			for i < len(p1) && isDigit(p1[i]) {
				v1 = v1*10 + int(p1[i]-'0')
				i++
			}
			for j < len(p2) && isDigit(p2[j]) {
				v2 = v2*10 + int(p2[j]-'0')
				j++
			}
			if v1 != v2 {
				return v1 - v2
			}
		case j < len(p2) && isDigit(p2[j]):
			return -1
		case j >= len(p2) || p1[i] != p2[j]:
			c2 := 0
			if j < len(p2) {
				c2 = int(p2[j])
			}
			return int(p1[i]) - c2
		default:
			i++
			j++
		}
	}
	if j < len(p2) {
		return -int(p2[j])
	}
	return 0
}

// ldCompare is ldconfig's compare(): a positive result sorts e1 after e2.
func ldCompare(e1, e2 ldEntry) int {
	res := ldLibCmp(e2.soname, e1.soname)
	if res == 0 {
		switch {
		case e1.flags < e2.flags:
			return 1
		case e1.flags > e2.flags:
			return -1
		case e2.hwcap > e1.hwcap:
			return 1
		case e2.hwcap < e1.hwcap:
			return -1
		case e2.osversion > e1.osversion:
			return 1
		case e2.osversion < e1.osversion:
			return -1
		}
	}
	return res
}

// insertLDEntry adds e where ldconfig's add_to_cache puts it: before the
// first entry that sorts after it, so equal entries keep their order.
func insertLDEntry(list []ldEntry, e ldEntry) []ldEntry {
	i := 0
	for i < len(list) && ldCompare(list[i], e) <= 0 {
		i++
	}
	list = append(list, ldEntry{})
	copy(list[i+1:], list[i:])
	list[i] = e
	return list
}

// ldStrings is glibc's stringtable_finalize: strings sorted by their
// reversed bytes (longer first among shared suffixes), each either the
// suffix of its predecessor or appended after it.
func ldStrings(strs []string) (table []byte, offset map[string]uint32) {
	uniq := make(map[string]bool)
	var list []string
	for _, s := range strs {
		if !uniq[s] {
			uniq[s] = true
			list = append(list, s)
		}
	}
	sort.Slice(list, func(i, j int) bool { return finalizeCompare(list[i], list[j]) < 0 })
	offset = make(map[string]uint32, len(list))
	var buf bytes.Buffer
	for k, s := range list {
		if k > 0 {
			prev := list[k-1]
			if len(prev) >= len(s) && prev[len(prev)-len(s):] == s {
				offset[s] = offset[prev] + uint32(len(prev)-len(s))
				continue
			}
		}
		offset[s] = uint32(buf.Len())
		buf.WriteString(s)
		buf.WriteByte(0)
	}
	return buf.Bytes(), offset
}

func finalizeCompare(l, r string) int {
	n := min(len(l), len(r))
	for i := 1; i <= n; i++ {
		if lc, rc := l[len(l)-i], r[len(r)-i]; lc != rc {
			return int(rc) - int(lc)
		}
	}
	switch {
	case len(l) == len(r):
		return 0
	case len(l) < len(r):
		return 1
	}
	return -1
}

// encodeLDCache renders the cache file.
func encodeLDCache(entries []ldEntry, generator string, bo binary.ByteOrder) []byte {
	var strs []string
	for _, e := range entries {
		strs = append(strs, e.soname, e.path)
	}
	table, off := ldStrings(strs)
	strOffset := uint32(ldCacheHeader + ldCacheEntry*len(entries))
	var b bytes.Buffer
	b.WriteString(ldCacheMagic)
	w32 := func(v uint32) { binary.Write(&b, bo, v) }
	w32(uint32(len(entries)))
	w32(uint32(len(table)))
	endian := byte(2)
	if bo == binary.BigEndian {
		endian = 3
	}
	b.Write([]byte{endian, 0, 0, 0})
	extOffset := strOffset + uint32(len(table))
	extOffset = (extOffset + 3) &^ 3
	w32(extOffset)
	b.Write(make([]byte, 12))
	for _, e := range entries {
		w32(uint32(e.flags))
		w32(strOffset + off[e.soname])
		w32(strOffset + off[e.path])
		w32(e.osversion)
		binary.Write(&b, bo, e.hwcap)
	}
	b.Write(table)
	b.Write(make([]byte, int(extOffset)-b.Len()))
	w32(ldCacheExtMagic)
	w32(1)
	w32(ldCacheTagGenerate)
	w32(0)
	w32(extOffset + 8 + 16)
	w32(uint32(len(generator)))
	b.WriteString(generator)
	return b.Bytes()
}
