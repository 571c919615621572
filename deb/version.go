package deb

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Version is a parsed Debian version, [epoch:]upstream[-revision], as
// described in deb-version(5). The zero value is not a valid version.
type Version struct {
	Epoch    uint
	Upstream string
	Revision string // empty when the version has no '-'
}

// maxEpoch is dpkg's limit (INT_MAX).
const maxEpoch = math.MaxInt32

// ParseVersion parses s with dpkg's rules, treating what dpkg only warns
// about as errors: leading and trailing blanks are ignored; the epoch is a
// decimal number up to 2147483647; the revision follows the last '-' and
// must not be empty; the upstream version starts with a digit and holds
// only alphanumerics and ".+~-:"; the revision only alphanumerics and ".+~".
func ParseVersion(s string) (Version, error) {
	t := trimBlank(s)
	epoch, up, rev, err := splitVersion(t)
	if err != nil {
		return Version{}, fmt.Errorf("version %q: %w", s, err)
	}
	return Version{Epoch: epoch, Upstream: up, Revision: rev}, nil
}

// String formats v as dpkg does: the epoch only when it is not zero or the
// upstream version contains a ':', the revision only when it is not empty.
func (v Version) String() string {
	var b strings.Builder
	b.Grow(len(v.Upstream) + len(v.Revision) + 12)
	if v.Epoch != 0 || strings.IndexByte(v.Upstream, ':') >= 0 {
		b.WriteString(strconv.FormatUint(uint64(v.Epoch), 10))
		b.WriteByte(':')
	}
	b.WriteString(v.Upstream)
	if v.Revision != "" {
		b.WriteByte('-')
		b.WriteString(v.Revision)
	}
	return b.String()
}

// Compare orders v and w as dpkg does: -1, 0 or +1.
func (v Version) Compare(w Version) int {
	switch {
	case v.Epoch < w.Epoch:
		return -1
	case v.Epoch > w.Epoch:
		return 1
	}
	if c := verrevcmp(v.Upstream, w.Upstream); c != 0 {
		return c
	}
	return verrevcmp(v.Revision, w.Revision)
}

var (
	errVersionEmpty = errors.New("version string is empty")
	errVersionSpace = errors.New("version string has embedded spaces")
)

// splitVersion validates a blank-trimmed version and splits it without
// allocating. It is generic so that the relation parser can check versions
// in a []byte buffer; the returned strings are only built for string input.
func splitVersion[T ~string | ~[]byte](s T) (epoch uint, up, rev T, err error) {
	if len(s) == 0 {
		return 0, up, rev, errVersionEmpty
	}
	colon := -1
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case isSpace(c):
			return 0, up, rev, errVersionSpace
		case c == ':' && colon < 0:
			colon = i
		}
	}
	rest := s
	if colon >= 0 {
		if colon == 0 {
			return 0, up, rev, errors.New("epoch in version is empty")
		}
		var e uint64
		for i := 0; i < colon; i++ {
			c := s[i]
			if !isDigit(c) {
				return 0, up, rev, errors.New("epoch in version is not number")
			}
			e = e*10 + uint64(c-'0')
			if e > maxEpoch {
				return 0, up, rev, errors.New("epoch in version is too big")
			}
		}
		epoch = uint(e)
		rest = s[colon+1:]
		if len(rest) == 0 {
			return 0, up, rev, errors.New("nothing after colon in version number")
		}
	}
	up = rest
	if h := lastIndexByte(rest, '-'); h >= 0 {
		up, rev = rest[:h], rest[h+1:]
		if len(rev) == 0 {
			return 0, up, rev, errors.New("revision number is empty")
		}
	}
	if len(up) == 0 {
		return 0, up, rev, errors.New("version number is empty")
	}
	if !isDigit(up[0]) {
		return 0, up, rev, errors.New("version number does not start with digit")
	}
	for i := 1; i < len(up); i++ {
		if c := up[i]; !isAlnum(c) && c != '.' && c != '+' && c != '~' && c != '-' && c != ':' {
			return 0, up, rev, fmt.Errorf("invalid character %q in version number", c)
		}
	}
	for i := 0; i < len(rev); i++ {
		if c := rev[i]; !isAlnum(c) && c != '.' && c != '+' && c != '~' {
			return 0, up, rev, fmt.Errorf("invalid character %q in revision number", c)
		}
	}
	return epoch, up, rev, nil
}

// CompareVersions orders two version strings as dpkg --compare-versions
// does and returns -1, 0 or +1. It does not allocate. Strings that are
// not valid versions still compare deterministically (the order is total
// over all strings): text before the first ':' is an epoch only when it is
// all digits, and the revision follows the last '-'. An absent revision
// compares equal to "0", as in dpkg.
func CompareVersions(a, b string) int {
	ae, au, ar := splitLoose(trimBlank(a))
	be, bu, br := splitLoose(trimBlank(b))
	if c := compareNumber(ae, be); c != 0 {
		return c
	}
	if c := verrevcmp(au, bu); c != 0 {
		return c
	}
	return verrevcmp(ar, br)
}

// splitLoose splits any string into epoch digits, upstream and revision.
func splitLoose(s string) (epoch, up, rev string) {
	if i := strings.IndexByte(s, ':'); i > 0 && allDigits(s[:i]) {
		epoch, s = s[:i], s[i+1:]
	}
	if i := strings.LastIndexByte(s, '-'); i >= 0 {
		return epoch, s[:i], s[i+1:]
	}
	return epoch, s, ""
}

// compareNumber compares two strings of decimal digits by value; the
// empty string is zero. Any length works, so huge epochs stay ordered.
func compareNumber(a, b string) int {
	a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
	switch {
	case len(a) != len(b):
		return cmpSign(len(a) - len(b))
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// verOrder weighs a byte of a non-digit run: '~' sorts before the end of the
// run, letters after it, everything else after letters. It extends dpkg's
// order() to bytes C strings cannot hold, so that NUL is not "end".
func verOrder(c byte) int {
	switch {
	case isAlpha(c):
		return int(c)
	case c == '~':
		return -1
	}
	return int(c) + 256
}

// verrevcmp is dpkg's comparison of upstream versions and revisions:
// alternating runs of non-digits (compared by order) and digits (compared
// numerically).
func verrevcmp(a, b string) int {
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		for (i < len(a) && !isDigit(a[i])) || (j < len(b) && !isDigit(b[j])) {
			ac, bc := 0, 0
			if i < len(a) && !isDigit(a[i]) {
				ac = verOrder(a[i])
			}
			if j < len(b) && !isDigit(b[j]) {
				bc = verOrder(b[j])
			}
			if ac != bc {
				return cmpSign(ac - bc)
			}
			i++
			j++
		}
		for i < len(a) && a[i] == '0' {
			i++
		}
		for j < len(b) && b[j] == '0' {
			j++
		}
		firstDiff := 0
		for i < len(a) && j < len(b) && isDigit(a[i]) && isDigit(b[j]) {
			if firstDiff == 0 {
				firstDiff = int(a[i]) - int(b[j])
			}
			i++
			j++
		}
		if i < len(a) && isDigit(a[i]) {
			return 1
		}
		if j < len(b) && isDigit(b[j]) {
			return -1
		}
		if firstDiff != 0 {
			return cmpSign(firstDiff)
		}
	}
	return 0
}

// Satisfied reports whether a comparison result cmp (of the version one
// has against the version asked for) meets the operator. OpAny is always
// satisfied.
func (op Op) Satisfied(cmp int) bool {
	switch op {
	case OpAny:
		return true
	case OpLT:
		return cmp < 0
	case OpLE:
		return cmp <= 0
	case OpEQ:
		return cmp == 0
	case OpGE:
		return cmp >= 0
	case OpGT:
		return cmp > 0
	}
	return false
}

// Satisfies reports whether version have meets "op want", e.g.
// Satisfies("2.39-0ubuntu8", OpGE, "2.38").
func Satisfies(have string, op Op, want string) bool {
	if op == OpAny {
		return true
	}
	return op.Satisfied(CompareVersions(have, want))
}

func cmpSign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

func trimBlank(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

func lastIndexByte[T ~string | ~[]byte](s T, c byte) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == c {
			return i
		}
	}
	return -1
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isAlnum(c byte) bool { return isDigit(c) || isAlpha(c) }

// isSpace is C's isspace in the C locale.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}
