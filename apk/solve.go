package apk

import "sort"

// How Resolve works. apk-tools' solver applies every constraint to a name
// before choosing its provider and never backtracks. rootfsd resolves
// breadth first from the world (sorted by name, as apk sorts it), choosing
// a provider for a name when it is first needed, and learns: when a later
// constraint cannot be met by an earlier choice, the constraint becomes a
// hint for that name and the nearest package on the failing chain that is
// not penalised yet is penalised (tried last as a provider), and
// resolution starts over. Choices honour hints when some provider can, so
// the restarts converge on the choice apk makes with full knowledge, and
// penalties climb the chain when a version has to give way (apk-tools'
// own test "complicated1"). When nothing new can be learnt the conflict is
// reported with the chains of reasons on both sides.
//
// Provider choice follows apk-tools' compare_providers: the preferred
// pinning (the tag of a world entry, else the untagged repositories), the
// highest provided version, the highest version of the same package, the
// highest provider priority (k:), then the earliest repository; a package
// the world names is preferred for any name it provides. Versionless
// ("virtual") provides are chosen automatically only when the provider
// declares a priority or is itself asked for by name. install_if rules are
// applied to a fixed point once all dependencies are met.
//
// apk-tools' solver tests (testdata/apktools) check all of this.

// maxAttempts bounds the restarts of one Resolve.
const maxAttempts = 100

// learnt is what failed attempts taught.
type learnt struct {
	hints   map[string][]Dep
	penalty map[*candidate]bool
	// noIIF holds install_if packages whose "!name" condition a later
	// selection broke: they are not triggered again.
	noIIF map[*candidate]bool
}

func (l *learnt) hint(name string, d Dep) bool {
	for _, h := range l.hints[name] {
		if h == d {
			return false
		}
	}
	l.hints[name] = append(l.hints[name], d)
	return true
}

func (l *learnt) penalise(c *candidate) bool {
	if c == nil || l.penalty[c] {
		return false
	}
	l.penalty[c] = true
	return true
}

// sel is a selected package.
type sel struct {
	c      *candidate
	repo   int
	reason string
	parent *sel  // the package whose dependency selected it
	via    Dep   // that dependency, or the goal's
	goal   *Goal // set for world entries
	tags   []string
	deps   []string
	iif    bool
}

// req is a dependency to satisfy.
type req struct {
	dep    Dep
	from   *sel  // requirer; nil for a goal or install_if
	goal   *Goal // the world entry, when from is nil
	tags   []string
	force  *candidate // install_if: exactly this package
	reason string
}

type provEntry struct {
	p provider
	s *sel
}

type constraint struct {
	dep  Dep
	from *sel
}

// state is one resolution attempt.
type state struct {
	r         *Resolver
	l         *learnt
	world     []Goal
	allTags   []string
	sels      []*sel
	byCand    map[*candidate]*sel
	provided  map[string][]provEntry
	cons      map[string][]constraint
	requirers map[string]int
	// worldNames are the names the world asks for.
	worldNames map[string]bool
	queue      []req
}

// failure ends an attempt; learned says whether a retry may do better.
type failure struct {
	err     error
	learned bool
}

// Resolve chooses the packages that satisfy world, in apk's install order.
// An unsatisfiable world yields a *repo.UnsatisfiableError carrying the
// chain of reasons, or a *repo.UnknownPackageError for a name no
// repository knows.
func (r *Resolver) Resolve(world []Goal) (*Solution, error) {
	// apk-tools sorts the world by name before solving; the install order
	// follows it.
	world = append([]Goal(nil), world...)
	sort.SliceStable(world, func(i, j int) bool { return world[i].Dep.Name < world[j].Dep.Name })
	l := &learnt{hints: map[string][]Dep{}, penalty: map[*candidate]bool{}, noIIF: map[*candidate]bool{}}
	for attempt := 0; ; attempt++ {
		st := &state{r: r, l: l, world: world, byCand: map[*candidate]*sel{},
			provided: map[string][]provEntry{}, cons: map[string][]constraint{}, requirers: map[string]int{},
			worldNames: map[string]bool{}}
		for _, g := range world {
			if !g.Dep.Conflict {
				st.worldNames[g.Dep.Name] = true
			}
			if g.Dep.Tag != "" && !contains(st.allTags, g.Dep.Tag) {
				st.allTags = append(st.allTags, g.Dep.Tag)
			}
		}
		f := st.run()
		if f == nil {
			return st.solution(), nil
		}
		if !f.learned || attempt >= maxAttempts {
			return nil, f.err
		}
	}
}

func (s *state) run() *failure {
	for i := range s.world {
		g := &s.world[i]
		var tags []string
		if g.Dep.Tag != "" {
			tags = []string{g.Dep.Tag}
		}
		s.queue = append(s.queue, req{dep: g.Dep, goal: g, tags: tags, reason: g.Reason})
	}
	for {
		for len(s.queue) > 0 {
			q := s.queue[0]
			s.queue = s.queue[1:]
			if f := s.process(q); f != nil {
				return f
			}
		}
		if !s.triggerInstallIf() {
			return s.checkInstallIf()
		}
	}
}

func (s *state) process(q req) *failure {
	d := q.dep
	s.cons[d.Name] = append(s.cons[d.Name], constraint{dep: d, from: q.from})
	if d.Conflict {
		for _, pe := range s.provided[d.Name] {
			if provides(d, pe.p) {
				return s.conflictFailure(q, pe)
			}
		}
		return nil
	}
	s.requirers[d.Name]++
	if pes := s.provided[d.Name]; len(pes) > 0 {
		for _, pe := range pes {
			if provides(d, pe.p) {
				s.link(q.from, pe.s)
				return nil
			}
		}
		return s.mismatchFailure(q, pes)
	}
	p, f := s.choose(q)
	if f != nil {
		return f
	}
	s.selectProvider(p, q)
	return nil
}

// selectProvider adds the package, claims its names and queues its
// dependencies.
func (s *state) selectProvider(p provider, q req) {
	repo, _ := s.tagOK(p.c, q.tags)
	x := &sel{c: p.c, repo: repo, parent: q.from, via: q.dep, goal: q.goal, tags: q.tags, iif: q.force != nil}
	switch {
	case q.reason != "":
		x.reason = q.reason
	case q.from != nil:
		x.reason = "depends of " + q.from.c.pkg.Name + " (" + q.dep.String() + ")"
	default:
		x.reason = "requested"
	}
	s.sels = append(s.sels, x)
	s.byCand[p.c] = x
	pkg := p.c.pkg
	s.provided[pkg.Name] = append(s.provided[pkg.Name], provEntry{provider{c: p.c, version: pkg.Version, own: true}, x})
	for _, pr := range pkg.Provides {
		if pr.Name != pkg.Name {
			s.provided[pr.Name] = append(s.provided[pr.Name], provEntry{provider{c: p.c, version: pr.Version}, x})
		}
	}
	s.link(q.from, x)
	for _, d := range pkg.Depends {
		s.queue = append(s.queue, req{dep: d, from: x, tags: x.tags})
	}
}

func (s *state) link(from, to *sel) {
	if from == nil || from == to {
		return
	}
	name := to.c.pkg.Name
	if !contains(from.deps, name) {
		from.deps = append(from.deps, name)
	}
}

// tagOK returns the first repository of c that the pinning tags allow.
func (s *state) tagOK(c *candidate, tags []string) (int, bool) {
	for _, ri := range c.repos {
		if t := s.r.repos[ri].Tag; t == "" || contains(tags, t) {
			return ri, true
		}
	}
	return -1, false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
