package apk

import "strings"

// Version ordering follows apk-tools 2.x (src/version.c) token by token, so
// that rootfsd picks the same package apk would. A version is
// {digit}{.digit}...{letter}{_suffix{digit}}...{-r#}: the pre-release
// suffixes _alpha _beta _pre _rc sort before a bare version, the post-release
// ones _cvs _svn _git _hg _p after it. Invalid versions are still ordered
// (apk compares them token by token until the first invalid token).

type token int8

const (
	tokInvalid token = iota - 1
	tokDigitOrZero
	tokDigit
	tokLetter
	tokSuffix
	tokSuffixNo
	tokRevisionNo
	tokEnd
)

// suffix reads a release suffix at the start of s: its value (pre-release
// suffixes -4..-1, post-release 0..4, the order apk-tools uses) and its
// length, or n == 0 when s starts with none. "pre" is tried before "p".
func suffix(s string) (v int64, n int) {
	names := [...]string{"alpha", "beta", "pre", "rc", "cvs", "svn", "git", "hg", "p"}
	for k, name := range names {
		if strings.HasPrefix(s, name) {
			return int64(k - 4), len(name)
		}
	}
	return 0, 0
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isLower(c byte) bool { return c >= 'a' && c <= 'z' }

// nextToken classifies what follows the token just read, consuming the
// separator ('.', '_', "-r") when there is one.
func nextToken(t token, s string) (token, string) {
	n := tokInvalid
	switch {
	case len(s) == 0 || s[0] == 0:
		n = tokEnd
	case (t == tokDigit || t == tokDigitOrZero) && isLower(s[0]):
		n = tokLetter
	case t == tokLetter && isDigit(s[0]):
		n = tokDigit
	case t == tokSuffix && isDigit(s[0]):
		n = tokSuffixNo
	default:
		switch s[0] {
		case '.':
			n = tokDigitOrZero
		case '_':
			n = tokSuffix
		case '-':
			if len(s) > 1 && s[1] == 'r' {
				n = tokRevisionNo
				s = s[1:]
			}
		}
		s = s[1:]
	}
	if n < t {
		if !((n == tokDigitOrZero && t == tokDigit) ||
			(n == tokSuffix && t == tokSuffixNo) ||
			(n == tokDigit && t == tokLetter)) {
			n = tokInvalid
		}
	}
	return n, s
}

// getToken reads the value of a token of type t and classifies the next.
func getToken(t token, s string) (int64, token, string) {
	if len(s) == 0 {
		return 0, tokEnd, s
	}
	i, nt := 0, tokInvalid
	var v int64
	switch t {
	case tokDigitOrZero, tokDigit, tokSuffixNo, tokRevisionNo:
		if t == tokDigitOrZero && s[0] == '0' {
			// Leading zeros: "01" sorts before "1" (value -zeros+1).
			for i+1 < len(s) && s[i+1] == '0' {
				i++
			}
			nt, v = tokDigit, -int64(i)
			break
		}
		for i < len(s) && isDigit(s[i]) {
			v = v*10 + int64(s[i]-'0')
			i++
		}
		if i >= 18 {
			return -1, tokInvalid, s
		}
	case tokLetter:
		v = int64(s[0])
		i = 1
	case tokSuffix:
		if v, i = suffix(s); i == 0 {
			return -1, tokInvalid, s
		}
	default:
		return -1, tokInvalid, s
	}
	s = s[i:]
	switch {
	case len(s) == 0:
		t = tokEnd
	case nt != tokInvalid:
		t = nt
	default:
		t, s = nextToken(t, s)
	}
	return v, t, s
}

// ValidVersion reports whether v is a well-formed apk version:
// digits{.digits}[letter]{_suffix[digits]}[-rdigits]. This is the grammar
// apk-tools 3 enforces; apk-tools 2 accepted some malformed strings (an
// empty version, a bare letter) that rootfsd refuses in constraints.
func ValidVersion(v string) bool {
	i, ok := digits(v, 0)
	if !ok {
		return false
	}
	for i < len(v) && v[i] == '.' {
		if i, ok = digits(v, i+1); !ok {
			return false
		}
	}
	if i < len(v) && isLower(v[i]) {
		i++
	}
	for i < len(v) && v[i] == '_' {
		i++
		_, n := suffix(v[i:])
		if n == 0 {
			return false
		}
		i += n
		if i < len(v) && isDigit(v[i]) {
			i, _ = digits(v, i)
		}
	}
	if strings.HasPrefix(v[i:], "-r") {
		if i, ok = digits(v, i+2); !ok {
			return false
		}
	}
	return i == len(v)
}

// laxValidVersion is apk-tools 2's apk_version_validate: the tokens parse
// to the end. It accepts what upstream indexes contain ("5.3.0_" and
// "0.104.o" in provides), so dependencies are checked with it.
func laxValidVersion(v string) bool {
	t := tokDigit
	for t != tokEnd && t != tokInvalid {
		_, t, v = getToken(t, v)
	}
	return t == tokEnd
}

// digits skips a run of 1 to 17 decimal digits starting at i.
func digits(v string, i int) (int, bool) {
	j := i
	for j < len(v) && isDigit(v[j]) {
		j++
	}
	return j, j > i && j-i < 18
}

// CompareVersions orders two apk versions: -1 when a < b, 0 when equal,
// +1 when a > b.
func CompareVersions(a, b string) int {
	return compareVersions(a, b, false)
}

// compareVersions returns -1, 0 or 1; fuzzy makes a equal to b when b is a
// token-wise prefix of it ("3.6.9" ~ "3.6").
func compareVersions(a, b string, fuzzy bool) int {
	at, bt := tokDigit, tokDigit
	var av, bv int64
	for at == bt && at != tokEnd && at != tokInvalid && av == bv {
		av, at, a = getToken(at, a)
		bv, bt, b = getToken(bt, b)
	}
	switch {
	case av < bv:
		return -1
	case av > bv:
		return 1
	case at == bt || (fuzzy && bt == tokEnd):
		// Fuzzy: a matches when b is a token-wise prefix of it. apk-tools
		// 2 also matched the reverse ("3.8" ~ "3.8.1"); apk-tools 3 fixed
		// that, and so does rootfsd.
		return 0
	}
	// Equal so far: the longer one is greater unless what follows is a
	// pre-release suffix.
	if at == tokSuffix {
		if v, _, _ := getToken(at, a); v < 0 {
			return -1
		}
	}
	if bt == tokSuffix {
		if v, _, _ := getToken(bt, b); v < 0 {
			return 1
		}
	}
	switch {
	case at > bt:
		return -1
	case bt > at:
		return 1
	}
	return 0
}
