package apk

import (
	"fmt"

	"github.com/rootfsd/rootfsd/repo"
)

// The errors of Resolve explain themselves with chains of reasons, the
// outermost first:
//
//	requested alpine-base
//	alpine-base-3.19.1-r0 depends on openrc
//	openrc-0.52.1-r2 depends on ifupdown-any
//	ifupdown-any: no acceptable provider: ...

func (s *state) request() []string {
	out := make([]string, len(s.world))
	for i, g := range s.world {
		out[i] = g.Dep.String()
	}
	return out
}

// chainOf explains why x was selected.
func (s *state) chainOf(x *sel) []string {
	var path []*sel
	for y := x; y != nil; y = y.parent {
		path = append(path, y)
	}
	top := path[len(path)-1]
	var lines []string
	switch {
	case top.goal != nil:
		lines = append(lines, goalLine(top.goal))
	default:
		lines = append(lines, top.reason+" selected "+top.c.pkg.ID())
	}
	for i := len(path) - 1; i > 0; i-- {
		lines = append(lines, path[i].c.pkg.ID()+" depends on "+path[i-1].via.String())
	}
	return lines
}

func goalLine(g *Goal) string {
	if g.Reason == "" || g.Reason == "requested" {
		return "requested " + g.Dep.String()
	}
	return g.Reason + ": " + g.Dep.String()
}

// reqChain explains why q is needed.
func (s *state) reqChain(q req) []string {
	switch {
	case q.from != nil:
		return append(s.chainOf(q.from), q.from.c.pkg.ID()+" depends on "+q.dep.String())
	case q.goal != nil:
		return []string{goalLine(q.goal)}
	}
	return []string{q.reason + " needs " + q.dep.String()}
}

func (s *state) constraintText(c constraint) string {
	if c.from == nil {
		return "the request " + c.dep.String()
	}
	return c.from.c.pkg.ID() + " (" + c.dep.String() + ")"
}

func (s *state) unsatisfiable(chain []string) error {
	return &repo.UnsatisfiableError{Request: s.request(), Chain: chain}
}

// penaliseRequirer penalises the nearest package on q's chain that is not
// penalised yet, so that the next attempt tries another version or
// provider there, and further up once that is exhausted.
func (s *state) penaliseRequirer(q req) bool {
	return s.penaliseChain(q.from)
}

func (s *state) penaliseChain(x *sel) bool {
	for ; x != nil; x = x.parent {
		if s.l.penalise(x.c) {
			return true
		}
	}
	return false
}

// noProviderFailure: no repository knows the name at all.
func (s *state) noProviderFailure(q req) *failure {
	name := q.dep.Name
	if q.from == nil && q.goal != nil {
		return &failure{err: &repo.UnknownPackageError{
			Name:        name,
			Where:       s.r.where(),
			Suggestions: repo.Suggest(name, s.r.packageNames(), 5),
		}}
	}
	chain := append(s.reqChain(q), name+": no package provides it")
	return &failure{err: s.unsatisfiable(chain), learned: s.penaliseRequirer(q)}
}

// noChoiceFailure: providers exist but none is acceptable.
func (s *state) noChoiceFailure(q req, why []string) *failure {
	chain := append(s.reqChain(q), q.dep.String()+": no acceptable provider:")
	for _, w := range why {
		chain = append(chain, "  "+w)
	}
	return &failure{err: s.unsatisfiable(chain), learned: s.penaliseRequirer(q)}
}

// mismatchFailure: the name is already provided by a package that does
// not satisfy q.
func (s *state) mismatchFailure(q req, pes []provEntry) *failure {
	learned := s.l.hint(q.dep.Name, q.dep) || s.penaliseRequirer(q)
	for _, pe := range pes {
		learned = learned || s.penaliseChain(pe.s)
	}
	chain := s.reqChain(q)
	for _, pe := range pes {
		chain = append(chain, fmt.Sprintf("but %s is %s, selected because:", q.dep.Name, describeProvider(pe.p)))
		for _, l := range s.chainOf(pe.s) {
			chain = append(chain, "  "+l)
		}
	}
	return &failure{err: s.unsatisfiable(chain), learned: learned}
}

// conflictFailure: q is "!name" and pe, already selected, matches it.
func (s *state) conflictFailure(q req, pe provEntry) *failure {
	learned := s.l.hint(q.dep.Name, q.dep) || s.penaliseRequirer(q) || s.penaliseChain(pe.s)
	chain := append(s.reqChain(q), fmt.Sprintf("but %s is selected because:", describeProvider(pe.p)))
	for _, l := range s.chainOf(pe.s) {
		chain = append(chain, "  "+l)
	}
	return &failure{err: s.unsatisfiable(chain), learned: learned}
}

func describeProvider(p provider) string {
	if p.own {
		return p.c.pkg.ID()
	}
	if p.version == "" {
		return p.c.pkg.ID() + " (a versionless provide)"
	}
	return p.c.pkg.ID() + " (providing version " + p.version + ")"
}
