package deb

import (
	"fmt"
	"sort"
	"strings"
)

// resolver reproduces what "apt-get install --no-install-recommends"
// marks for installation into an empty system: apt's pkgDepCache::
// MarkInstall, depth first, with its choice among alternatives and
// providers (CompareProviders) and its propagation of the protected flag
// from the packages the user asked for.
type resolver struct {
	u          *Universe
	recommends bool
	state      map[string]*pkgState
	// installed packages (from an earlier phase, e.g. minbase's essential
	// set) satisfy dependencies but are not walked again.
	installed map[string]*Candidate
	order     []string // names in the order they were marked
	errs      []string // unsatisfied critical dependencies (why marking failed)
}

type pkgState struct {
	cand      *Candidate // the candidate version (pins change it)
	install   bool
	protected bool
	reason    string
	deps      []string // names chosen for its dependencies
}

func newResolver(u *Universe, recommends bool) *resolver {
	return &resolver{u: u, recommends: recommends, state: map[string]*pkgState{}, installed: map[string]*Candidate{}}
}

// st returns the state of name, creating it with the candidate version
// (the highest; apt's default pin gives every pocket priority 500).
func (r *resolver) st(name string) (*pkgState, error) {
	if s, ok := r.state[name]; ok {
		return s, nil
	}
	vs, err := r.u.versionsLocked(name)
	if err != nil {
		return nil, err
	}
	s := &pkgState{}
	if len(vs) > 0 {
		s.cand = vs[0]
	}
	r.state[name] = s
	return s, nil
}

// satisfiedBy reports whether the candidate c, being installed, satisfies d
// directly (not through Provides).
func satisfiesDirect(d Dep, c *Candidate) bool {
	if c == nil || c.Name != d.Name {
		return false
	}
	if !archQualOK(d, c) {
		return false
	}
	return d.Op == OpAny || Satisfies(c.Version, d.Op, d.Version)
}

// archQualOK applies the ":any" and ":native" qualifiers on a single
// architecture system: ":any" needs Multi-Arch: allowed.
func archQualOK(d Dep, c *Candidate) bool {
	switch d.ArchQual {
	case "", "native":
		return true
	case "any":
		return c.MultiArch == "allowed"
	}
	return d.ArchQual == c.Arch || c.Arch == "all"
}

// provideSatisfies reports whether c's Provides satisfy d.
func provideSatisfies(d Dep, c *Candidate) bool {
	for _, p := range c.Provides {
		if p.Name != d.Name {
			continue
		}
		if d.ArchQual == "any" && c.MultiArch != "foreign" && c.MultiArch != "allowed" {
			// apt lets only M-A: foreign (or allowed) providers satisfy :any.
			continue
		}
		if d.Op == OpAny {
			return true
		}
		if p.Version != "" && Satisfies(p.Version, d.Op, d.Version) {
			return true
		}
	}
	return false
}

// depSatisfied reports whether a package marked for installation (or
// installed earlier) satisfies d.
func (r *resolver) depSatisfied(d Dep) bool {
	if c := r.marked(d.Name); c != nil && satisfiesDirect(d, c) {
		return true
	}
	for _, pr := range r.u.providing(d.Name) {
		c := r.u.parsed[pr]
		if c == nil || !provideSatisfies(d, c) {
			continue
		}
		if m := r.marked(c.Name); m == c {
			return true
		}
	}
	return false
}

// marked returns the version of name that will be on the system.
func (r *resolver) marked(name string) *Candidate {
	if c, ok := r.installed[name]; ok {
		return c
	}
	if s, ok := r.state[name]; ok && s.install {
		return s.cand
	}
	return nil
}

func (r *resolver) groupSatisfied(g OrGroup) bool {
	for _, d := range g {
		if r.depSatisfied(d) {
			return true
		}
	}
	return false
}

// solutions is apt's getAllPossibleSolutions with the CANDIDATE selector:
// for each alternative in order, the candidates that satisfy it (the
// package itself and its providers), each alternative's list sorted by
// CompareProviders.
func (r *resolver) solutions(g OrGroup, sorted bool) ([]*Candidate, error) {
	var out []*Candidate
	for _, d := range g {
		var list []*Candidate
		s, err := r.st(d.Name)
		if err != nil {
			return nil, err
		}
		if s.cand != nil && satisfiesDirect(d, s.cand) {
			list = append(list, s.cand)
		}
		provs, err := r.u.providers(d.Name)
		if err != nil {
			return nil, err
		}
		for _, pc := range provs {
			ps, err := r.st(pc.Name)
			if err != nil {
				return nil, err
			}
			// Only the provider's candidate version counts.
			if ps.cand != pc || !provideSatisfies(d, pc) {
				continue
			}
			list = append(list, pc)
		}
		if sorted {
			sort.SliceStable(list, func(i, j int) bool { return r.compareProviders(d.Name, list[i], list[j]) })
		}
		out = append(out, list...)
	}
	// std::unique: drop adjacent duplicates only, as apt does.
	dedup := out[:0]
	for i, c := range out {
		if i > 0 && c == out[i-1] {
			continue
		}
		dedup = append(dedup, c)
	}
	return dedup, nil
}

// compareProviders is apt's CompareProviders for a system with nothing
// installed and a single architecture: protected first, the target itself
// before providers, Essential, Important, then Priority, then the later
// package ID.
func (r *resolver) compareProviders(target string, a, b *Candidate) bool {
	sa, sb := r.state[a.Name], r.state[b.Name]
	if sa.protected != sb.protected {
		return sa.protected
	}
	if (a.Name == target) != (b.Name == target) {
		return a.Name == target
	}
	if ea, eb := r.essential(a.Name), r.essential(b.Name); ea != eb {
		return ea
	}
	if a.Protected != b.Protected {
		return a.Protected
	}
	if pa, pb := priorityRank(a.Priority), priorityRank(b.Priority); pa != pb {
		return pa < pb
	}
	return r.u.id(a.Name) > r.u.id(b.Name)
}

// essential is apt's package flag: Essential in any version.
func (r *resolver) essential(name string) bool {
	vs, _ := r.u.versionsLocked(name)
	for _, v := range vs {
		if v.Essential {
			return true
		}
	}
	return false
}

// priorityRank is apt's numbering: required 1 ... extra 5, unknown 0.
func priorityRank(p string) int {
	switch p {
	case "required":
		return 1
	case "important":
		return 2
	case "standard":
		return 3
	case "optional":
		return 4
	case "extra":
		return 5
	}
	return 0
}

func (r *resolver) importantGroups(c *Candidate) []OrGroup {
	groups := make([]OrGroup, 0, len(c.PreDepends)+len(c.Depends)+len(c.Recommends))
	groups = append(groups, c.PreDepends...)
	groups = append(groups, c.Depends...)
	if r.recommends {
		groups = append(groups, c.Recommends...)
	}
	return groups
}

func (r *resolver) critical(c *Candidate, gi int) bool {
	return gi < len(c.PreDepends)+len(c.Depends)
}

func depKind(c *Candidate, gi int) string {
	switch {
	case gi < len(c.PreDepends):
		return "Pre-Depends"
	case gi < len(c.PreDepends)+len(c.Depends):
		return "Depends"
	}
	return "Recommends"
}

// conflictsWithMarked reports a marked package that c conflicts with or
// breaks, or that conflicts with or breaks c.
func (r *resolver) conflictsWithMarked(c *Candidate) string {
	check := func(list []Dep, kind string) string {
		for _, d := range list {
			if m := r.marked(d.Name); m != nil && m.Name != c.Name && (d.Op == OpAny || Satisfies(m.Version, d.Op, d.Version)) {
				return fmt.Sprintf("%s %s: %s", kind, d.String(), m.Name+" "+m.Version)
			}
		}
		return ""
	}
	if s := check(c.Conflicts, "Conflicts"); s != "" {
		return s
	}
	return check(c.Breaks, "Breaks")
}

func joinReasons(rs []string) string { return strings.Join(rs, "; ") }
