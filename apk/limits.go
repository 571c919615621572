package apk

import (
	"errors"
	"fmt"
	"io"
)

// ErrTooLarge is wrapped when input exceeds one of the Limits.
var ErrTooLarge = errors.New("exceeds limit")

// Limits bound everything read from a repository. A zero field takes the
// value of DefaultLimits.
type Limits struct {
	// IndexSize bounds a compressed APKINDEX.tar.gz (community is 1.7 MB).
	IndexSize int64
	// IndexTextSize bounds the decompressed APKINDEX (community is 7.6 MB).
	IndexTextSize int64
	// IndexRatio bounds decompressed/compressed size of an index (about 5
	// upstream): a defence against compression bombs below IndexTextSize.
	IndexRatio int64
	// Records bounds the number of packages in one index.
	Records int
	// LineLength bounds one line of an index, installed db or .PKGINFO
	// (the longest upstream line, a p: field, is 24 kB).
	LineLength int
	// SignatureSize bounds the decompressed signature member.
	SignatureSize int64
	// PackageSize bounds an .apk file.
	PackageSize int64
	// ControlSize bounds the decompressed control member (.PKGINFO and
	// scripts), which is held in memory until its signature is checked.
	ControlSize int64
	// DataSize bounds the decompressed data tar of one package.
	DataSize int64
	// Entries bounds the number of tar entries in one package.
	Entries int
	// PathLength bounds an entry name or link target.
	PathLength int
}

// DefaultLimits returns generous limits that upstream Alpine stays far
// below.
func DefaultLimits() Limits {
	return Limits{
		IndexSize:     64 << 20,
		IndexTextSize: 512 << 20,
		IndexRatio:    100,
		Records:       1 << 20,
		LineLength:    1 << 20,
		SignatureSize: 64 << 10,
		PackageSize:   4 << 30,
		ControlSize:   16 << 20,
		DataSize:      32 << 30,
		Entries:       1 << 20,
		PathLength:    4096,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	set64 := func(v *int64, def int64) {
		if *v <= 0 {
			*v = def
		}
	}
	set := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	set64(&l.IndexSize, d.IndexSize)
	set64(&l.IndexTextSize, d.IndexTextSize)
	set64(&l.IndexRatio, d.IndexRatio)
	set(&l.Records, d.Records)
	set(&l.LineLength, d.LineLength)
	set64(&l.SignatureSize, d.SignatureSize)
	set64(&l.PackageSize, d.PackageSize)
	set64(&l.ControlSize, d.ControlSize)
	set64(&l.DataSize, d.DataSize)
	set(&l.Entries, d.Entries)
	set(&l.PathLength, d.PathLength)
	return l
}

// readAllLimited reads r to EOF, failing with ErrTooLarge past max bytes.
func readAllLimited(r io.Reader, max int64, what string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s: %w of %d bytes", what, ErrTooLarge, max)
	}
	return data, nil
}

// readFull reads into buf until it is full or r ends; unlike io.ReadFull a
// short read is not an error.
func readFull(r io.Reader, buf []byte) (int, error) {
	n, err := io.ReadFull(r, buf)
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		err = nil
	}
	return n, err
}
