package apk

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseIndex parses the text of an APKINDEX (or of lib/apk/db/installed,
// whose F: R: a: M: Z: file lines are kept in Extra): "X:value" lines,
// records separated by an empty line. It checks every record has a name,
// a version and a well-formed checksum, and that no limit is exceeded.
func ParseIndex(text []byte, lim Limits) ([]Package, error) {
	lim = lim.withDefaults()
	if int64(len(text)) > lim.IndexTextSize {
		return nil, fmt.Errorf("apk: index text: %w of %d bytes", ErrTooLarge, lim.IndexTextSize)
	}
	// One string for the whole index: every field is a substring of it,
	// so records cost no allocation per field.
	s := string(text)
	pkgs := make([]Package, 0, strings.Count(s, "\nC:")+1)
	var p Package
	inRecord, start := false, 0
	for off, line := 0, 1; off < len(s); line++ {
		end := strings.IndexByte(s[off:], '\n')
		var l string
		if end < 0 {
			l, off = s[off:], len(s)
		} else {
			l, off = s[off:off+end], off+end+1
		}
		if len(l) > lim.LineLength {
			return nil, fmt.Errorf("apk: index line %d: %w of %d bytes", line, ErrTooLarge, lim.LineLength)
		}
		if l == "" {
			if inRecord {
				if err := checkRecord(&p, start); err != nil {
					return nil, err
				}
				if len(pkgs) >= lim.Records {
					return nil, fmt.Errorf("apk: index: %w of %d records", ErrTooLarge, lim.Records)
				}
				pkgs = append(pkgs, p)
				p, inRecord = Package{}, false
			}
			continue
		}
		if !inRecord {
			inRecord, start = true, line
		}
		if len(l) < 2 || l[1] != ':' {
			return nil, fmt.Errorf("apk: index line %d: %w: %q is not a \"X:value\" line", line, ErrFormat, clip(l))
		}
		if err := setField(&p, l[0], l[2:]); err != nil {
			return nil, fmt.Errorf("apk: index line %d: %w", line, err)
		}
	}
	if inRecord {
		if err := checkRecord(&p, start); err != nil {
			return nil, err
		}
		if len(pkgs) >= lim.Records {
			return nil, fmt.Errorf("apk: index: %w of %d records", ErrTooLarge, lim.Records)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs, nil
}

func setField(p *Package, key byte, v string) error {
	var err error
	once := func(dst *string, name string) {
		if *dst != "" {
			err = fmt.Errorf("%w: second %s field", ErrFormat, name)
		}
		*dst = v
	}
	switch key {
	case 'C':
		once(&p.Checksum, "C:")
	case 'P':
		once(&p.Name, "P:")
	case 'V':
		once(&p.Version, "V:")
	case 'A':
		p.Arch = v
	case 'S':
		p.Size, err = parseSize(v, "S:")
	case 'I':
		p.InstalledSize, err = parseSize(v, "I:")
	case 'T':
		p.Description = v
	case 'U':
		p.URL = v
	case 'L':
		p.License = v
	case 'o':
		p.Origin = v
	case 'm':
		p.Maintainer = v
	case 't':
		p.BuildTime, err = parseSize(v, "t:")
	case 'c':
		p.Commit = v
	case 'k':
		var n int64
		n, err = parseSize(v, "k:")
		p.ProviderPriority = int(n)
	case 'q':
		var n int64
		n, err = parseSize(v, "q:")
		p.ReplacesPriority = int(n)
	// Repeated dependency lines add up, as in apk-tools.
	case 'D':
		err = appendDeps(&p.Depends, v, ParseDeps)
	case 'p':
		err = appendDeps(&p.Provides, v, parseProvides)
	case 'i':
		err = appendDeps(&p.InstallIf, v, ParseDeps)
	case 'r':
		err = appendDeps(&p.Replaces, v, ParseDeps)
	default:
		p.Extra = append(p.Extra, Field{Key: key, Value: v})
	}
	return err
}

func appendDeps(dst *[]Dep, v string, parse func(string) ([]Dep, error)) error {
	deps, err := parse(v)
	if err != nil {
		return err
	}
	if *dst == nil {
		*dst = deps
	} else {
		*dst = append(*dst, deps...)
	}
	return nil
}

// parseProvides parses a p: field: names, optionally "=version".
func parseProvides(v string) ([]Dep, error) {
	deps, err := ParseDeps(v)
	for _, d := range deps {
		if d.Conflict || d.Tag != "" || (d.Op != OpAny && d.Op != OpEqual) {
			return nil, fmt.Errorf("%w: provide %q: only name or name=version", ErrBadDep, d)
		}
	}
	return deps, err
}

func parseSize(v, field string) (int64, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%w: %s %q is not a non-negative number", ErrFormat, field, clip(v))
	}
	return n, nil
}

func checkRecord(p *Package, line int) error {
	switch {
	case p.Name == "":
		return fmt.Errorf("apk: index record at line %d: %w: no P: field", line, ErrFormat)
	case p.Version == "":
		return fmt.Errorf("apk: index record %s at line %d: %w: no V: field", p.Name, line, ErrFormat)
	case !validChecksum(p.Checksum):
		return fmt.Errorf("apk: index record %s-%s at line %d: %w: C: %q is not a Q1 checksum", p.Name, p.Version, line, ErrFormat, clip(p.Checksum))
	}
	if err := checkRecordName(p); err != nil { // names.go
		return fmt.Errorf("apk: index record at line %d: %w", line, err)
	}
	return nil
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}
