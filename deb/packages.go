package deb

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strings"
)

// ParsePackages parses a whole uncompressed Packages index and calls fn
// with each package, a new value every time that fn may keep. Parsing
// stops at the first error, which names the line, package and field (or
// is fn's own error, returned as is). Relations are parsed eagerly.
// Each Package's Raw aliases data.
func ParsePackages(data []byte, fn func(*Package) error) error {
	var fnErr error
	err := ParseControl(data, func(p *Paragraph) error {
		pkg, err := parsePackage(p)
		if err != nil {
			return fmt.Errorf("line %d: %w", p.Line, err)
		}
		if err := fn(pkg); err != nil {
			fnErr = err
			return err
		}
		return nil
	})
	if fnErr != nil {
		return fnErr
	}
	if err != nil {
		return fmt.Errorf("packages index: %w", err)
	}
	return nil
}

// ParsePackage reads one stanza of a Packages index. Package, Version,
// Architecture, Filename, Size and SHA256 are required and checked:
// names follow Debian policy, versions dpkg's rules, Filename is a clean
// relative path without "..", Size a non-negative integer and SHA256 64
// hex digits (kept in lower case). Known fields may not repeat; unknown
// fields are ignored (Raw keeps them). Raw aliases the buffer p was
// parsed from when p comes from ParseControl; for a Paragraph built by
// hand it is the fields written out as "Name: Value" lines.
func ParsePackage(p *Paragraph) (*Package, error) {
	return parsePackage(p)
}

// Field keys of the stanza fields ParsePackage reads, one bit each.
const (
	kPackage = 1 << iota
	kVersion
	kArchitecture
	kMultiArch
	kEssential
	kPriority
	kSection
	kSource
	kDepends
	kPreDepends
	kRecommends
	kConflicts
	kBreaks
	kProvides
	kFilename
	kSize
	kSHA256
	kInstalledSize

	kRequired = kPackage | kVersion | kArchitecture | kFilename | kSize | kSHA256
)

// fieldNames are the canonical names of the keys, in bit order.
const fieldNames = "Package Version Architecture Multi-Arch Essential Priority Section Source " +
	"Depends Pre-Depends Recommends Conflicts Breaks Provides Filename Size SHA256 Installed-Size"

// keyName is the canonical name of a field key, for messages.
func keyName(k int) string { return strings.Fields(fieldNames)[bits.TrailingZeros(uint(k))] }

// fieldKey maps a field name (case-insensitive, as in dpkg) to its key,
// 0 for the fields ParsePackage does not read.
func fieldKey(n []byte) int {
	var b [14]byte
	if len(n) > len(b) {
		return 0
	}
	for i, c := range n {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	switch string(b[:len(n)]) {
	case "package":
		return kPackage
	case "version":
		return kVersion
	case "architecture":
		return kArchitecture
	case "multi-arch":
		return kMultiArch
	case "essential":
		return kEssential
	case "priority":
		return kPriority
	case "section":
		return kSection
	case "source":
		return kSource
	case "depends":
		return kDepends
	case "pre-depends":
		return kPreDepends
	case "recommends":
		return kRecommends
	case "conflicts":
		return kConflicts
	case "breaks":
		return kBreaks
	case "provides":
		return kProvides
	case "filename":
		return kFilename
	case "size":
		return kSize
	case "sha256":
		return kSHA256
	case "installed-size":
		return kInstalledSize
	}
	return 0
}

func parsePackage(p *Paragraph) (*Package, error) {
	pkg := new(Package)
	seen := 0
	for i := range p.Fields {
		f := &p.Fields[i]
		k := fieldKey(f.Name)
		if k == 0 {
			continue
		}
		if seen&k != 0 {
			return nil, pkgError(p, k, errors.New("field repeated"))
		}
		seen |= k
		if err := pkg.set(k, f.Value); err != nil {
			return nil, pkgError(p, k, err)
		}
	}
	if missing := kRequired &^ seen; missing != 0 {
		return nil, pkgError(p, missing&-missing, errors.New("field missing"))
	}
	if pkg.Source == "" {
		pkg.Source = pkg.Name
	}
	if pkg.SourceVersion == "" {
		pkg.SourceVersion = pkg.Version
	}
	pkg.Raw = rawSpan(p)
	return pkg, nil
}

func pkgError(p *Paragraph, k int, err error) error {
	name := p.Get("Package")
	if len(name) == 0 || k == kPackage {
		return fmt.Errorf("package stanza: %s: %w", keyName(k), err)
	}
	return fmt.Errorf("package %q: %s: %w", truncate(name, 80), keyName(k), err)
}

// set parses the value of the field with key k into pkg.
func (pkg *Package) set(k int, v []byte) (err error) {
	switch k {
	case kPackage:
		if msg := nameInvalid(v); msg != "" {
			return fmt.Errorf("name %q %s", truncate(v, 80), msg)
		}
		pkg.Name = string(v)
	case kVersion:
		pkg.Version, err = checkedVersion(v)
	case kArchitecture:
		if msg := archInvalid(v); msg != "" {
			return fmt.Errorf("architecture %q %s", truncate(v, 80), msg)
		}
		pkg.Arch = string(v)
	case kMultiArch:
		for _, m := range [...]string{"same", "foreign", "allowed", "no"} {
			if bytes.EqualFold(v, []byte(m)) {
				if m != "no" { // "no" is the default, ""
					pkg.MultiArch = m
				}
				return nil
			}
		}
		return fmt.Errorf("value %q is not one of same, foreign, allowed, no", truncate(v, 80))
	case kEssential:
		switch {
		case bytes.EqualFold(v, []byte("yes")):
			pkg.Essential = true
		case !bytes.EqualFold(v, []byte("no")):
			return fmt.Errorf("value %q is not yes or no", truncate(v, 80))
		}
	case kPriority:
		pkg.Priority = string(v)
	case kSection:
		pkg.Section = string(v)
	case kSource:
		return pkg.setSource(v)
	case kDepends:
		pkg.Depends, _, err = parseRelField(v, true)
	case kPreDepends:
		pkg.PreDepends, _, err = parseRelField(v, true)
	case kRecommends:
		pkg.Recommends, _, err = parseRelField(v, true)
	case kConflicts:
		_, pkg.Conflicts, err = parseRelField(v, false)
	case kBreaks:
		_, pkg.Breaks, err = parseRelField(v, false)
	case kProvides:
		pkg.Provides, err = parseProvides(v)
	case kFilename:
		if err := checkFilename(v); err != nil {
			return err
		}
		pkg.Filename = string(v)
	case kSize:
		pkg.Size, err = parseSize(v)
	case kInstalledSize:
		pkg.InstalledSize, err = parseSize(v)
	case kSHA256:
		pkg.SHA256, err = parseSHA256(v)
	}
	return err
}

// setSource reads "name" or "name (version)".
func (pkg *Package) setSource(v []byte) error {
	name, ver := v, []byte(nil)
	i := 0
	for i < len(v) && !isSpace(v[i]) && v[i] != '(' {
		i++
	}
	if i < len(v) {
		name, ver = v[:i], bytes.TrimSpace(v[i:])
		if len(ver) < 2 || ver[0] != '(' || ver[len(ver)-1] != ')' {
			return fmt.Errorf("%q is not \"name\" or \"name (version)\"", truncate(v, 80))
		}
		ver = bytes.TrimSpace(ver[1 : len(ver)-1])
	}
	if msg := nameInvalid(name); msg != "" {
		return fmt.Errorf("name %q %s", truncate(name, 80), msg)
	}
	pkg.Source = string(name)
	if ver != nil {
		var err error
		if pkg.SourceVersion, err = checkedVersion(ver); err != nil {
			return err
		}
	}
	return nil
}

func checkedVersion(v []byte) (string, error) {
	if _, _, _, err := splitVersion(v); err != nil {
		return "", fmt.Errorf("version %q: %w", truncate(v, 80), err)
	}
	return string(v), nil
}

// nameInvalid checks a package name against Debian policy 5.6.1: at
// least two of [a-z0-9+.-], starting with an alphanumeric. It returns
// what is wrong, or "".
func nameInvalid(n []byte) string {
	if len(n) < 2 {
		return "is shorter than two characters"
	}
	if !isDigit(n[0]) && !('a' <= n[0] && n[0] <= 'z') {
		return "does not start with a lower-case letter or digit"
	}
	for _, c := range n {
		if !isDigit(c) && !('a' <= c && c <= 'z') && c != '+' && c != '-' && c != '.' {
			return fmt.Sprintf("contains %q (allowed: a-z 0-9 + - .)", c)
		}
	}
	return ""
}

// archInvalid checks an architecture name or wildcard as dpkg does.
func archInvalid(a []byte) string {
	if len(a) == 0 || !isAlnum(a[0]) {
		return "does not start with a letter or digit"
	}
	for _, c := range a {
		if !isAlnum(c) && c != '-' {
			return fmt.Sprintf("contains %q (allowed: letters, digits, -)", c)
		}
	}
	return ""
}

// profileInvalid checks a build profile name with dpkg-dev's lenient rule.
func profileInvalid(a []byte) string {
	if len(a) == 0 {
		return "is empty"
	}
	for _, c := range a {
		if !isAlnum(c) && bytes.IndexByte([]byte("?/;:=@%*~_+.-"), c) < 0 {
			return fmt.Sprintf("contains %q", c)
		}
	}
	return ""
}

// maxFilename bounds a pool path.
const maxFilename = 1024

// checkFilename accepts a clean relative path: no leading '/', no empty,
// "." or ".." element, no blanks, control bytes or backslashes.
func checkFilename(f []byte) error {
	if len(f) == 0 || len(f) > maxFilename {
		return fmt.Errorf("path of %d bytes (want 1 to %d)", len(f), maxFilename)
	}
	for _, c := range f {
		if c <= ' ' || c == 0x7f || c == '\\' {
			return fmt.Errorf("path %q contains %q", truncate(f, 80), c)
		}
	}
	for el := range bytes.SplitSeq(f, []byte{'/'}) {
		if len(el) == 0 || string(el) == "." || string(el) == ".." {
			return fmt.Errorf("path %q is not a clean relative path", truncate(f, 80))
		}
	}
	return nil
}

// parseSize reads a non-negative decimal integer.
func parseSize(v []byte) (int64, error) {
	if len(v) == 0 {
		return 0, errors.New("empty number")
	}
	var n int64
	for _, c := range v {
		if !isDigit(c) {
			return 0, fmt.Errorf("%q is not a non-negative integer", truncate(v, 80))
		}
		if n > (math.MaxInt64-int64(c-'0'))/10 {
			return 0, fmt.Errorf("%q is too large", truncate(v, 80))
		}
		n = n*10 + int64(c-'0')
	}
	return n, nil
}

// parseSHA256 checks 64 hex digits and returns them in lower case.
func parseSHA256(v []byte) (string, error) {
	if len(v) != 64 {
		return "", fmt.Errorf("%q is not 64 hex digits", truncate(v, 80))
	}
	var b [64]byte
	for i, c := range v {
		switch {
		case isDigit(c) || 'a' <= c && c <= 'f':
			b[i] = c
		case 'A' <= c && c <= 'F':
			b[i] = c + 'a' - 'A'
		default:
			return "", fmt.Errorf("%q is not 64 hex digits", truncate(v, 80))
		}
	}
	return string(b[:]), nil
}

// rawSpan returns the bytes of p from its first field to the end of its
// last one. ParseControl's fields alias one buffer in order, so that span
// is a slice of it, found by capacity arithmetic and checked by address;
// for other paragraphs the fields are written out.
func rawSpan(p *Paragraph) []byte {
	if len(p.Fields) == 0 {
		return nil
	}
	first, last := p.Fields[0].Name, &p.Fields[len(p.Fields)-1]
	end, extra := last.Value, 0
	if len(end) == 0 {
		end, extra = last.Name, 1 // "Name:" with an empty value
	}
	if len(first) > 0 && len(end) > 0 {
		off := cap(first) - cap(end)
		n := off + len(end) + extra
		if off >= 0 && n >= len(first) && n <= cap(first) {
			raw := first[:n]
			if &raw[off] == &end[0] && (extra == 0 || raw[n-1] == ':') {
				return raw
			}
		}
	}
	var b []byte
	for i, f := range p.Fields {
		if i > 0 {
			b = append(b, '\n')
		}
		b = append(append(b, f.Name...), ':')
		if len(f.Value) > 0 {
			b = append(append(b, ' '), f.Value...)
		}
	}
	return b
}
