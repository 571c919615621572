package deb

import (
	"bytes"
	"errors"
	"fmt"
)

// ParseRelations parses a Depends, Pre-Depends or Recommends value:
// comma-separated groups of '|'-separated alternatives, each
// "name[:archqual] [(op version)] [[arch ...]] [<profile ...>...]".
// Whitespace, including the newlines of continuation lines, may surround
// every token. An empty or all-blank value is no relations (nil).
// The obsolete operators '<' and '>' mean '<=' and '>='.
func ParseRelations(s string) ([]OrGroup, error) {
	g, _, err := parseRelField([]byte(s), true)
	return g, err
}

// ParseDeps parses a Conflicts or Breaks value: like ParseRelations, but
// alternatives are an error.
func ParseDeps(s string) ([]Dep, error) {
	_, d, err := parseRelField([]byte(s), false)
	return d, err
}

// ParseProvides parses a Provides value: names, each optionally with an
// exact version "(= version)". Architecture qualifiers, architecture
// lists, profiles, other operators and alternatives are errors.
func ParseProvides(s string) ([]Provide, error) {
	return parseProvides([]byte(s))
}

// parseRelField reads a whole relation field: groups of alternatives
// when alts is set, else a flat list. All Deps share one allocation, and
// so do the groups.
func parseRelField(s []byte, alts bool) ([]OrGroup, []Dep, error) {
	i := skipSpace(s, 0)
	if i == len(s) {
		return nil, nil, nil
	}
	ng := bytes.Count(s, []byte{','}) + 1
	nd := ng
	var groups []OrGroup
	if alts {
		nd += bytes.Count(s, []byte{'|'})
		groups = make([]OrGroup, 0, ng)
	}
	deps := make([]Dep, 0, nd)
	start := 0
	for {
		d, next, err := parseDep(s, i)
		if err != nil {
			return nil, nil, err
		}
		deps = append(deps, d)
		i = next
		if i < len(s) && s[i] == '|' {
			if !alts {
				return nil, nil, fmt.Errorf("relation %q: alternatives ('|') not allowed", relElement(s, i))
			}
			i = skipSpace(s, i+1)
			continue
		}
		if alts {
			groups = append(groups, OrGroup(deps[start:len(deps):len(deps)]))
			start = len(deps)
		}
		if i == len(s) {
			return groups, deps, nil
		}
		// parseDep stops only at the end, '|' or ','.
		i = skipSpace(s, i+1)
	}
}

// parseDep parses one alternative starting at s[i] (not a blank) and returns
// the index of the ',' or '|' after it, or len(s).
func parseDep(s []byte, i int) (Dep, int, error) {
	var d Dep
	start := i
	bad := func(format string, args ...any) (Dep, int, error) {
		return Dep{}, 0, fmt.Errorf("relation %q: "+format, append([]any{relElement(s, start)}, args...)...)
	}
	j := i
	for j < len(s) && !isSpace(s[j]) && !isRelDelim(s[j]) {
		j++
	}
	if j == i {
		return bad("missing package name")
	}
	if msg := nameInvalid(s[i:j]); msg != "" {
		return bad("package name %q %s", s[i:j], msg)
	}
	d.Name = string(s[i:j])
	i = j
	if i < len(s) && s[i] == ':' {
		i++
		j = i
		for j < len(s) && (isAlnum(s[j]) || s[j] == '-') {
			j++
		}
		if j == i || !isAlnum(s[i]) {
			return bad("missing architecture name after ':'")
		}
		d.ArchQual = string(s[i:j])
		i = j
	}
	i = skipSpace(s, i)
	if i < len(s) && s[i] == '(' {
		i = skipSpace(s, i+1)
		op, n := parseOp(s[i:])
		if n == 0 {
			return bad("missing or bad version operator")
		}
		d.Op = op
		i = skipSpace(s, i+n)
		j = i
		for j < len(s) && !isSpace(s[j]) && s[j] != ')' && s[j] != '(' {
			j++
		}
		v := s[i:j]
		i = skipSpace(s, j)
		if i == len(s) || s[i] != ')' {
			return bad("version not terminated by ')'")
		}
		i = skipSpace(s, i+1)
		_, _, _, err := splitVersion(v)
		if err != nil {
			return bad("version %q: %w", v, err)
		}
		d.Version = canonVersion(v)
	}
	if i < len(s) && s[i] == '[' {
		var err error
		d.Arches, i, err = parseWords(s, i+1, ']', archInvalid)
		if err != nil {
			return bad("architecture list: %w", err)
		}
	}
	for i < len(s) && s[i] == '<' {
		list, next, err := parseWords(s, i+1, '>', profileInvalid)
		if err != nil {
			return bad("restriction list: %w", err)
		}
		d.Profiles = append(d.Profiles, list)
		i = next
	}
	if i < len(s) && s[i] != ',' && s[i] != '|' {
		return bad("unexpected %q", s[i])
	}
	return d, i, nil
}

// canonVersion keeps a checked version as written, except that a zero epoch
// that dpkg would not print is dropped, so that String is canonical.
func canonVersion(v []byte) string {
	if c := bytes.IndexByte(v, ':'); c >= 0 && allZero(v[:c]) && bytes.IndexByte(v[c+1:], ':') < 0 {
		v = v[c+1:]
	}
	return string(v)
}

// parseWords parses the blank-separated, optionally '!'-negated words of an
// architecture or restriction list up to the closing byte, and returns
// the index after it and the blanks that follow.
func parseWords(s []byte, i int, end byte, invalid func([]byte) string) ([]string, int, error) {
	var list []string
	for {
		i = skipSpace(s, i)
		if i == len(s) {
			return nil, 0, fmt.Errorf("missing %q", end)
		}
		if s[i] == end {
			if len(list) == 0 {
				return nil, 0, errors.New("empty list")
			}
			return list, skipSpace(s, i+1), nil
		}
		j := i
		for j < len(s) && !isSpace(s[j]) && s[j] != end {
			j++
		}
		w := s[i:j]
		if w[0] == '!' {
			w = w[1:]
		}
		if msg := invalid(w); msg != "" {
			return nil, 0, fmt.Errorf("%q %s", s[i:j], msg)
		}
		list = append(list, string(s[i:j]))
		i = j
	}
}

func parseProvides(s []byte) ([]Provide, error) {
	_, deps, err := parseRelField(s, false)
	if err != nil || len(deps) == 0 {
		return nil, err
	}
	out := make([]Provide, len(deps))
	for k, d := range deps {
		switch {
		case d.ArchQual != "":
			return nil, fmt.Errorf("provide %q: architecture qualifier not allowed", d.String())
		case d.Op != OpAny && d.Op != OpEQ:
			return nil, fmt.Errorf("provide %q: only exact versions (=) allowed", d.String())
		case d.Arches != nil || d.Profiles != nil:
			return nil, fmt.Errorf("provide %q: architecture and restriction lists not allowed", d.String())
		}
		out[k] = Provide{Name: d.Name, Version: d.Version}
	}
	return out, nil
}

// parseOp reads a relation operator and returns how many bytes it took.
func parseOp(s []byte) (Op, int) {
	if len(s) == 0 {
		return OpAny, 0
	}
	var next byte
	if len(s) > 1 {
		next = s[1]
	}
	switch s[0] {
	case '=':
		return OpEQ, 1
	case '<':
		switch next {
		case '<':
			return OpLT, 2
		case '=':
			return OpLE, 2
		case '>':
			return OpAny, 0
		}
		return OpLE, 1 // obsolete "<" means "<="
	case '>':
		switch next {
		case '>':
			return OpGT, 2
		case '=':
			return OpGE, 2
		case '<':
			return OpAny, 0
		}
		return OpGE, 1 // obsolete ">" means ">="
	}
	return OpAny, 0
}

// isRelDelim reports the bytes that end a package name in a relation.
func isRelDelim(c byte) bool {
	switch c {
	case ':', '(', ')', ',', '|', '[', ']', '<', '>':
		return true
	}
	return false
}

func skipSpace(s []byte, i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != '0' {
			return false
		}
	}
	return len(b) > 0
}

// element returns the relation around s[i] for error messages: from the
// previous ',' to the next one, trimmed and shortened.
func relElement(s []byte, i int) string {
	a := bytes.LastIndexByte(s[:i], ',') + 1
	b := bytes.IndexByte(s[i:], ',')
	if b < 0 {
		b = len(s)
	} else {
		b += i
	}
	return truncate(bytes.TrimSpace(s[a:b]), 80)
}

// String returns the operator as dpkg writes it; OpAny is "".
func (op Op) String() string {
	switch op {
	case OpAny:
		return ""
	case OpLT:
		return "<<"
	case OpLE:
		return "<="
	case OpEQ:
		return "="
	case OpGE:
		return ">="
	case OpGT:
		return ">>"
	}
	return fmt.Sprintf("Op(%d)", uint8(op))
}

// String formats d canonically: "name:qual (op version) [arches] <profiles>".
func (d Dep) String() string {
	return string(d.appendTo(make([]byte, 0, 32)))
}

func (d Dep) appendTo(b []byte) []byte {
	b = append(b, d.Name...)
	if d.ArchQual != "" {
		b = append(append(b, ':'), d.ArchQual...)
	}
	if d.Op != OpAny {
		b = append(append(b, " ("...), d.Op.String()...)
		b = append(append(append(b, ' '), d.Version...), ')')
	}
	if len(d.Arches) > 0 {
		b = appendList(append(b, " ["...), d.Arches, ']')
	}
	for _, l := range d.Profiles {
		b = appendList(append(b, " <"...), l, '>')
	}
	return b
}

func appendList(b []byte, l []string, end byte) []byte {
	for i, w := range l {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, w...)
	}
	return append(b, end)
}

// String joins the alternatives with " | ".
func (g OrGroup) String() string {
	b := make([]byte, 0, 32*len(g))
	for i, d := range g {
		if i > 0 {
			b = append(b, " | "...)
		}
		b = d.appendTo(b)
	}
	return string(b)
}

// String formats p as in a Provides field: "name" or "name (= version)".
func (p Provide) String() string {
	if p.Version == "" {
		return p.Name
	}
	return p.Name + " (= " + p.Version + ")"
}
