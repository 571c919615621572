package apk

import (
	"errors"
	"fmt"
	"strings"
)

// Op is apk's version relation as a mask of the outcomes it accepts, the
// representation apk-tools uses: ">=" is OpGreater|OpEqual, "~" is
// OpFuzzy|OpEqual.
type Op uint8

const (
	OpEqual   Op = 1
	OpLess    Op = 2
	OpGreater Op = 4
	OpFuzzy   Op = 8
	// OpAny is a dependency without a version.
	OpAny = OpEqual | OpLess | OpGreater | OpFuzzy
	// OpChecksum ("><") pins a package by its C: checksum.
	OpChecksum = OpLess | OpGreater
)

// String renders the operator as apk writes it ("" for OpAny).
func (o Op) String() string {
	switch o {
	case OpAny:
		return ""
	case OpLess:
		return "<"
	case OpLess | OpEqual:
		return "<="
	case OpEqual | OpFuzzy, OpFuzzy:
		return "~"
	case OpLess | OpEqual | OpFuzzy:
		return "<~"
	case OpGreater | OpEqual | OpFuzzy:
		return ">~"
	case OpEqual:
		return "="
	case OpGreater | OpEqual:
		return ">="
	case OpGreater:
		return ">"
	case OpChecksum:
		return "><"
	}
	return "?"
}

// Dep is one dependency, provide or install_if token:
// "[!]name[@tag][op version]". Names include the so:, cmd:, pc: and path
// namespaces as plain names.
type Dep struct {
	Name     string
	Op       Op
	Version  string // empty when Op is OpAny
	Conflict bool   // "!name": the name must not be installed
	// Tag pins the dependency to repositories tagged so ("name@edge").
	Tag string
}

// ErrBadDep is wrapped by errors for a malformed dependency token.
var ErrBadDep = errors.New("malformed dependency")

// String renders the dependency in apk's syntax.
func (d Dep) String() string {
	var b strings.Builder
	d.appendTo(&b)
	return b.String()
}

func (d Dep) appendTo(b *strings.Builder) {
	if d.Conflict {
		b.WriteByte('!')
	}
	b.WriteString(d.Name)
	if d.Tag != "" {
		b.WriteByte('@')
		b.WriteString(d.Tag)
	}
	if d.Op != OpAny && d.Op != 0 {
		b.WriteString(d.Op.String())
		b.WriteString(d.Version)
	}
}

// FormatDeps joins dependencies with spaces, as in D: and p: fields.
func FormatDeps(deps []Dep) string {
	var b strings.Builder
	for i, d := range deps {
		if i > 0 {
			b.WriteByte(' ')
		}
		d.appendTo(&b)
	}
	return b.String()
}

func isOpChar(c byte) bool { return c == '<' || c == '>' || c == '=' || c == '~' }

// ParseDep parses one token such as "so:libc.musl-x86_64.so.1",
// "busybox=1.36.1-r15", "!vlan", "py3-foo>=1.2" or "jq@edge".
func ParseDep(s string) (Dep, error) {
	d := Dep{Op: OpAny}
	tok := s
	if strings.HasPrefix(tok, "!") {
		d.Conflict, tok = true, tok[1:]
	}
	name := tok
	if i := strings.IndexFunc(tok, func(r rune) bool { return r < 128 && isOpChar(byte(r)) }); i >= 0 {
		name = tok[:i]
		j := i
		for j < len(tok) && isOpChar(tok[j]) {
			j++
		}
		var op Op
		for _, c := range []byte(tok[i:j]) {
			switch c {
			case '<':
				op |= OpLess
			case '>':
				op |= OpGreater
			case '~':
				op |= OpFuzzy | OpEqual
			case '=':
				op |= OpEqual
			}
		}
		d.Op, d.Version = op, tok[j:]
		if d.Op.String() == "?" {
			return Dep{}, fmt.Errorf("%w %q: unknown operator %q", ErrBadDep, s, tok[i:j])
		}
		if d.Op == OpChecksum {
			if !validChecksum(d.Version) {
				return Dep{}, fmt.Errorf("%w %q: %q is not a Q1 checksum", ErrBadDep, s, d.Version)
			}
		} else if d.Version == "" || !laxValidVersion(d.Version) {
			return Dep{}, fmt.Errorf("%w %q: invalid version %q", ErrBadDep, s, d.Version)
		}
	}
	if n, tag, ok := strings.Cut(name, "@"); ok {
		if tag == "" {
			return Dep{}, fmt.Errorf("%w %q: empty repository tag", ErrBadDep, s)
		}
		name, d.Tag = n, tag
	}
	if name == "" {
		return Dep{}, fmt.Errorf("%w %q: empty name", ErrBadDep, s)
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c <= ' ' || c == 0x7f {
			return Dep{}, fmt.Errorf("%w %q: control character or space in name", ErrBadDep, s)
		}
	}
	d.Name = name
	return d, nil
}

// ParseDeps parses a space-separated list of dependencies.
func ParseDeps(s string) ([]Dep, error) {
	n := 0
	for range fieldsIter(s) {
		n++
	}
	if n == 0 {
		return nil, nil
	}
	deps := make([]Dep, 0, n)
	for _, f := range fieldsIter(s) {
		d, err := ParseDep(f)
		if err != nil {
			return nil, err
		}
		deps = append(deps, d)
	}
	return deps, nil
}

// fieldsIter yields the space-, tab- or newline-separated tokens of s
// without allocating.
func fieldsIter(s string) func(func(int, string) bool) {
	return func(yield func(int, string) bool) {
		k := 0
		for i := 0; i < len(s); {
			for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n') {
				i++
			}
			j := i
			for j < len(s) && s[j] != ' ' && s[j] != '\t' && s[j] != '\n' {
				j++
			}
			if j > i {
				if !yield(k, s[i:j]) {
					return
				}
				k++
			}
			i = j
		}
	}
}

// MatchVersion reports whether version satisfies the relation, ignoring
// Conflict. A dependency without a version matches any version.
func (d Dep) MatchVersion(version string) bool {
	switch d.Op {
	case OpAny, 0:
		return true
	case OpChecksum:
		return false // only a package's checksum can match, see Provides
	}
	return opMatches(d.Op, compareVersions(version, d.Version, d.Op&OpFuzzy != 0))
}

func opMatches(op Op, cmp int) bool {
	switch cmp {
	case -1:
		return op&OpLess != 0
	case 1:
		return op&OpGreater != 0
	}
	return op&OpEqual != 0
}

// validChecksum checks the shape of a "Q1"+base64(SHA-1) checksum.
func validChecksum(s string) bool {
	_, err := decodeQ1(s)
	return err == nil
}
