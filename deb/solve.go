package deb

import (
	"fmt"
	"sort"
	"strings"

	"github.com/rootfsd/rootfsd/repo"
)

// Selection is what to install, in apt's terms.
type Selection struct {
	// Packages are "name", "name=version" or "name/suite".
	Packages []string
	// Essential first installs the Essential: yes packages of the release
	// suite (mmdebstrap's essential variant), then the rest on top.
	Essential bool
	// Required adds the Priority: required packages of the release suite to
	// the second phase (mmdebstrap's minbase, alias required).
	Required bool
	// AptEssential treats apt as essential in the first phase, as
	// "apt-get dist-upgrade" from an empty status does (mmdebstrap's apt).
	AptEssential bool
	// Recommends installs Recommends too.
	Recommends bool
	// Where names the indexes in messages ("debian:12 main").
	Where string
}

// Resolved is one package of a resolution with why it is there.
type Resolved struct {
	*Candidate
	Reason string
	// Deps are the names that satisfy its Pre-Depends and Depends.
	Deps []string
}

type spec struct{ name, version, suite string }

func parseSpec(s string) (spec, error) {
	var sp spec
	s = strings.TrimSpace(s)
	if n, v, ok := strings.Cut(s, "="); ok {
		sp.name, sp.version = n, v
	} else if n, su, ok := strings.Cut(s, "/"); ok {
		sp.name, sp.suite = n, su
	} else {
		sp.name = s
	}
	if sp.name == "" || !validName(sp.name) {
		return sp, fmt.Errorf("%q is not a package name (expected name, name=version or name/suite)", s)
	}
	return sp, nil
}

func validName(n string) bool {
	if len(n) < 2 && n != "" {
		// dpkg allows 2+ characters; accept single letters for fixtures.
		return n[0] >= 'a' && n[0] <= 'z' || n[0] >= '0' && n[0] <= '9'
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// Resolve marks sel for installation the way apt-get install does and
// returns the packages in the order they were marked.
func (u *Universe) Resolve(sel Selection) ([]Resolved, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	installed := map[string]*Candidate{}
	var out []Resolved
	if sel.Essential || sel.AptEssential {
		names := u.Essential(false)
		if sel.AptEssential {
			names = append(names, "apt")
		}
		phase, err := u.phase(names, nil, installed, sel, "essential")
		if err != nil {
			return nil, err
		}
		for _, p := range phase {
			installed[p.Name] = p.Candidate
		}
		out = append(out, phase...)
	}
	var pkgs []string
	if sel.Required {
		for _, n := range u.Essential(true) {
			if _, ok := installed[n]; !ok {
				pkgs = append(pkgs, n)
			}
		}
	}
	phase, err := u.phase(pkgs, sel.Packages, installed, sel, "")
	if err != nil {
		return nil, err
	}
	out = append(out, phase...)
	return out, nil
}

// phase runs one apt-get install: names (selected by the variant) and
// user specs, on top of installed.
func (u *Universe) phase(names, specs []string, installed map[string]*Candidate, sel Selection, why string) ([]Resolved, error) {
	r := newResolver(u, sel.Recommends)
	r.installed = installed
	type req struct {
		name, reason string
	}
	var reqs []req
	for _, n := range names {
		reason := "variant " + why
		if why == "" {
			reason = "variant required (Priority: required)"
		}
		reqs = append(reqs, req{n, reason})
	}
	for _, s := range specs {
		sp, err := parseSpec(s)
		if err != nil {
			return nil, err
		}
		if !u.Known(sp.name) {
			return nil, &repo.UnknownPackageError{Name: sp.name, Where: sel.Where, Suggestions: repo.Suggest(sp.name, u.Names(), 5)}
		}
		st, err := r.st(sp.name)
		if err != nil {
			return nil, err
		}
		if err := r.pin(sp, st); err != nil {
			return nil, err
		}
		if st.cand == nil {
			return nil, r.virtualError(sp.name, sel)
		}
		reqs = append(reqs, req{sp.name, "requested"})
	}
	// apt-get processes its package set in package ID order.
	sort.SliceStable(reqs, func(i, j int) bool { return u.id(reqs[i].name) < u.id(reqs[j].name) })
	var requested []string
	for _, q := range reqs {
		if _, ok := installed[q.name]; ok {
			continue
		}
		st, err := r.st(q.name)
		if err != nil {
			return nil, err
		}
		if st.cand == nil {
			continue // an essential name with no usable version here
		}
		st.protected = true // pkgProblemResolver::Protect
		r.markInstall(q.name, false, 0, true, q.reason)
		requested = append(requested, q.name)
	}
	for _, n := range requested {
		r.markInstall(n, true, 0, true, r.state[n].reason)
	}
	if broken := r.broken(); len(broken) > 0 {
		chain := append(broken, r.errs...)
		return nil, &repo.UnsatisfiableError{Request: append(specs, names...), Chain: dedupe(chain)}
	}
	out := make([]Resolved, 0, len(r.order))
	for _, n := range r.order {
		s := r.state[n]
		out = append(out, Resolved{Candidate: s.cand, Reason: s.reason, Deps: r.depNames(s.cand)})
	}
	return out, nil
}

// pin applies name=version and name/suite.
func (r *resolver) pin(sp spec, st *pkgState) error {
	if sp.version == "" && sp.suite == "" {
		return nil
	}
	vs, _ := r.u.versionsLocked(sp.name)
	var have []string
	for _, v := range vs {
		if sp.version != "" && v.Version == sp.version || sp.suite != "" && v.File.Suite == sp.suite {
			st.cand = v
			return nil
		}
		have = append(have, v.Version+" ("+v.File.Suite+")")
	}
	// The same version can be in several pockets; versions lists one.
	if sp.suite != "" {
		for _, ref := range r.u.named(sp.name) {
			c, err := r.u.load(ref)
			if err == nil && c.File.Suite == sp.suite && (c.Arch == r.u.Arch || c.Arch == "all") {
				st.cand = c
				return nil
			}
		}
	}
	want := sp.version
	if want == "" {
		want = "from " + sp.suite
	}
	return fmt.Errorf("%s: no version %s; available: %s", sp.name, want, strings.Join(have, ", "))
}

func (r *resolver) virtualError(name string, sel Selection) error {
	provs, _ := r.u.providers(name)
	var names []string
	for _, p := range provs {
		names = append(names, p.Name)
	}
	sort.Strings(names)
	names = dedupe(names)
	if len(names) == 0 {
		return &repo.UnknownPackageError{Name: name, Where: sel.Where}
	}
	return fmt.Errorf("package %q is virtual: install one of its providers (%s)", name, strings.Join(names, ", "))
}

// broken lists marked packages whose Pre-Depends or Depends are not met.
func (r *resolver) broken() []string {
	var out []string
	for _, n := range r.order {
		c := r.state[n].cand
		for gi, g := range r.importantGroups(c) {
			if r.critical(c, gi) && !r.groupSatisfied(g) {
				out = append(out, fmt.Sprintf("%s %s %s %s is not satisfied", c.Name, c.Version, depKind(c, gi), g.String()))
			}
		}
		if msg := r.conflictsWithMarked(c); msg != "" {
			out = append(out, fmt.Sprintf("%s %s %s", c.Name, c.Version, msg))
		}
	}
	return out
}

// depNames returns which marked packages satisfy c's critical groups.
func (r *resolver) depNames(c *Candidate) []string {
	var out []string
	for _, g := range append(append([]OrGroup{}, c.PreDepends...), c.Depends...) {
	alts:
		for _, d := range g {
			if m := r.marked(d.Name); m != nil && satisfiesDirect(d, m) {
				out = append(out, m.Name)
				break
			}
			for _, pr := range r.u.providing(d.Name) {
				pc := r.u.parsed[pr]
				if pc != nil && r.marked(pc.Name) == pc && provideSatisfies(d, pc) {
					out = append(out, pc.Name)
					break alts
				}
			}
		}
	}
	sort.Strings(out)
	return dedupe(out)
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	out := s[:0:0]
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}
