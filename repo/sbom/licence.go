package sbom

import (
	_ "embed"
	"strings"
	"sync"
)

// spdxIDs is the SPDX license list (licences and exceptions), one
// identifier a line.
//
//go:embed spdx-ids.txt
var spdxIDs string

// Limits on a licence field taken from an index.
const (
	maxLicenceLen   = 1024
	maxLicenceDepth = 32
)

// licenceIDs maps lower-cased identifiers to their canonical spelling.
// Computed once from the embedded list and never modified: a constant, not
// state.
var licenceIDs = sync.OnceValue(func() map[string]string {
	m := make(map[string]string, 1024)
	for _, line := range strings.Split(spdxIDs, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m[strings.ToLower(line)] = line
	}
	return m
})

// NormalizeLicence checks that s is an SPDX licence expression made of
// listed identifiers and returns it in canonical form: identifiers spelled
// as in the SPDX list, operators upper-case, single spaces, parentheses
// only where precedence needs them. It reports false for anything else
// ("custom", "GPL2+", references to LicenseRef- texts the document does not
// carry), which callers record as not machine-readable.
func NormalizeLicence(s string) (string, bool) {
	if len(s) > maxLicenceLen {
		return "", false
	}
	toks := tokenize(s)
	if len(toks) == 0 {
		return "", false
	}
	p := &licParser{toks: toks, ids: licenceIDs()}
	n, ok := p.or(0)
	if !ok || p.pos != len(p.toks) {
		return "", false
	}
	return n.String(), true
}

func tokenize(s string) []string {
	var toks []string
	for _, f := range strings.Fields(s) {
		for f != "" {
			i := strings.IndexAny(f, "()")
			switch {
			case i < 0:
				toks, f = append(toks, f), ""
			case i > 0:
				toks, f = append(toks, f[:i]), f[i:]
			default:
				toks, f = append(toks, f[:1]), f[1:]
			}
		}
	}
	return toks
}

// licNode is a parsed expression: a leaf (id) or an operator with operands.
type licNode struct {
	op   string // "", "AND", "OR", "WITH"
	id   string
	args []*licNode
}

func (n *licNode) String() string {
	switch n.op {
	case "":
		return n.id
	case "WITH":
		return n.args[0].String() + " WITH " + n.args[1].String()
	}
	parts := make([]string, len(n.args))
	for i, a := range n.args {
		parts[i] = a.String()
		if n.op == "AND" && a.op == "OR" {
			parts[i] = "(" + parts[i] + ")"
		}
	}
	return strings.Join(parts, " "+n.op+" ")
}

type licParser struct {
	toks []string
	pos  int
	ids  map[string]string
}

func (p *licParser) peekOp(op string) bool {
	return p.pos < len(p.toks) && strings.EqualFold(p.toks[p.pos], op)
}

// or := and { OR and }
func (p *licParser) or(depth int) (*licNode, bool) {
	return p.binary(depth, "OR", p.and)
}

// and := with { AND with }
func (p *licParser) and(depth int) (*licNode, bool) {
	return p.binary(depth, "AND", p.with)
}

func (p *licParser) binary(depth int, op string, next func(int) (*licNode, bool)) (*licNode, bool) {
	first, ok := next(depth)
	if !ok {
		return nil, false
	}
	n := first
	for p.peekOp(op) {
		p.pos++
		rhs, ok := next(depth)
		if !ok {
			return nil, false
		}
		if n == first {
			n = &licNode{op: op, args: []*licNode{first}}
		}
		n.args = append(n.args, rhs)
	}
	return n, true
}

// with := primary [ WITH exception ]
func (p *licParser) with(depth int) (*licNode, bool) {
	n, ok := p.primary(depth)
	if !ok {
		return nil, false
	}
	if !p.peekOp("WITH") {
		return n, true
	}
	if n.op != "" {
		return nil, false // only a simple expression takes an exception
	}
	p.pos++
	exc, ok := p.identifier(false)
	if !ok {
		return nil, false
	}
	return &licNode{op: "WITH", args: []*licNode{n, exc}}, true
}

// primary := "(" or ")" | identifier
func (p *licParser) primary(depth int) (*licNode, bool) {
	if depth > maxLicenceDepth || p.pos >= len(p.toks) {
		return nil, false
	}
	if p.toks[p.pos] == "(" {
		p.pos++
		n, ok := p.or(depth + 1)
		if !ok || p.pos >= len(p.toks) || p.toks[p.pos] != ")" {
			return nil, false
		}
		p.pos++
		return n, true
	}
	return p.identifier(true)
}

// identifier is a listed id, optionally followed by "+" when plus is set.
func (p *licParser) identifier(plus bool) (*licNode, bool) {
	if p.pos >= len(p.toks) {
		return nil, false
	}
	t := p.toks[p.pos]
	if t == "(" || t == ")" {
		return nil, false
	}
	for _, op := range []string{"AND", "OR", "WITH"} {
		if strings.EqualFold(t, op) {
			return nil, false
		}
	}
	suffix := ""
	if plus && strings.HasSuffix(t, "+") {
		t, suffix = t[:len(t)-1], "+"
	}
	id, ok := p.ids[strings.ToLower(t)]
	if !ok {
		return nil, false
	}
	p.pos++
	return &licNode{id: id + suffix}, true
}
