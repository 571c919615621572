package apk

import (
	"fmt"
	"strings"
)

// choose picks the provider for a name needed by q and not yet provided.
func (s *state) choose(q req) (provider, *failure) {
	d := q.dep
	all := s.r.names[d.Name]
	if len(all) == 0 {
		return provider{}, s.noProviderFailure(q)
	}
	var ok []provider
	var why []string
	for _, p := range all {
		if q.force != nil && p.c != q.force {
			continue
		}
		id := p.c.pkg.ID()
		if !provides(d, p) {
			why = append(why, describeMismatch(d, p))
			continue
		}
		if c := s.violated(d.Name, p); c != nil {
			why = append(why, fmt.Sprintf("%s is excluded by %s", id, s.constraintText(*c)))
			continue
		}
		if _, tagged := s.tagOK(p.c, q.tags); !tagged {
			why = append(why, fmt.Sprintf("%s is only in repositories tagged %s: ask for %s@%s",
				id, s.repoTags(p.c), p.c.pkg.Name, s.r.repos[p.c.repos[0]].Tag))
			continue
		}
		if p.c.selfConflict != "" {
			why = append(why, fmt.Sprintf("%s provides %s twice, which conflicts", id, p.c.selfConflict))
			continue
		}
		if reason := s.blocked(p.c); reason != "" {
			why = append(why, id+" "+reason)
			continue
		}
		if p.version == "" && !p.own && p.c.pkg.ProviderPriority == 0 && s.requirers[p.c.pkg.Name] == 0 && !s.worldNames[p.c.pkg.Name] {
			why = append(why, fmt.Sprintf("%s provides %s without a provider priority: ask for %s by name",
				id, d.Name, p.c.pkg.Name))
			continue
		}
		ok = append(ok, p)
	}
	if len(ok) == 0 {
		return provider{}, s.noChoiceFailure(q, why)
	}
	if hints := s.l.hints[d.Name]; len(hints) > 0 {
		var kept []provider
		for _, p := range ok {
			good := true
			for _, h := range hints {
				if !allows(h, p) {
					good = false
					break
				}
			}
			if good {
				kept = append(kept, p)
			}
		}
		if len(kept) > 0 {
			ok = kept
		}
	}
	best := ok[0]
	for _, p := range ok[1:] {
		if s.better(p, best, q) {
			best = p
		}
	}
	return best, nil
}

// violated returns a recorded constraint on name that p does not meet.
func (s *state) violated(name string, p provider) *constraint {
	for i, c := range s.cons[name] {
		if !allows(c.dep, p) {
			return &s.cons[name][i]
		}
	}
	return nil
}

// blocked says why c cannot join the selection: one of its names is
// already provided by another package (two packages may share only a
// versionless provide), a recorded conflict excludes one of its names, or
// it conflicts with a selected package. Empty when c may be selected.
func (s *state) blocked(c *candidate) string {
	pkg := c.pkg
	check := func(name, version string, own bool) string {
		p := provider{c: c, version: version, own: own}
		for _, pe := range s.provided[name] {
			if pe.s.c != c && (version != "" || pe.p.version != "") {
				return fmt.Sprintf("would provide %s, already provided by %s", name, pe.s.c.pkg.ID())
			}
		}
		if k := s.violated(name, p); k != nil && k.dep.Conflict {
			return "is excluded by " + s.constraintText(*k)
		}
		return ""
	}
	if r := check(pkg.Name, pkg.Version, true); r != "" {
		return r
	}
	for _, pr := range pkg.Provides {
		if pr.Name == pkg.Name {
			continue
		}
		if r := check(pr.Name, pr.Version, false); r != "" {
			return r
		}
	}
	for _, d := range pkg.Depends {
		if !d.Conflict {
			continue
		}
		for _, pe := range s.provided[d.Name] {
			if provides(d, pe.p) {
				return fmt.Sprintf("conflicts with %s (%s)", pe.s.c.pkg.ID(), d)
			}
		}
	}
	return ""
}

// better reports whether a should be preferred over b as apk-tools'
// compare_providers orders them: the preferred pinning (for a world entry
// the repositories of its tag, else the untagged ones), the highest
// provided version, the highest version of the same package, the highest
// provider priority, the earliest repository. Before all that come what
// failed attempts taught (penalties) and, as apk's constraint merging
// does, a package the world asks for by name.
func (s *state) better(a, b provider, q req) bool {
	if pa, pb := s.l.penalty[a.c], s.l.penalty[b.c]; pa != pb {
		return pb
	}
	if wa, wb := s.worldNames[a.c.pkg.Name], s.worldNames[b.c.pkg.Name]; wa != wb {
		return wa
	}
	tag := ""
	if q.goal != nil {
		tag = q.dep.Tag
	}
	if ta, tb := s.inTag(a.c, tag), s.inTag(b.c, tag); ta != tb {
		return ta
	}
	if a.version != "" && b.version != "" {
		if c := CompareVersions(a.version, b.version); c != 0 {
			return c > 0
		}
	}
	if a.c.pkg.Name == b.c.pkg.Name {
		if c := CompareVersions(a.c.pkg.Version, b.c.pkg.Version); c != 0 {
			return c > 0
		}
	}
	if a.c.pkg.ProviderPriority != b.c.pkg.ProviderPriority {
		return a.c.pkg.ProviderPriority > b.c.pkg.ProviderPriority
	}
	ra, _ := s.tagOK(a.c, q.tags)
	rb, _ := s.tagOK(b.c, q.tags)
	if ra != rb {
		return ra < rb
	}
	return a.c.seq < b.c.seq
}

func (s *state) inTag(c *candidate, tag string) bool {
	for _, ri := range c.repos {
		if s.r.repos[ri].Tag == tag {
			return true
		}
	}
	return false
}

func (s *state) repoTags(c *candidate) string {
	var tags []string
	for _, ri := range c.repos {
		tags = append(tags, "@"+s.r.repos[ri].Tag)
	}
	return strings.Join(tags, ", ")
}

func describeMismatch(d Dep, p provider) string {
	id := p.c.pkg.ID()
	switch {
	case d.Op == OpChecksum:
		return fmt.Sprintf("%s has checksum %s", id, p.c.pkg.Checksum)
	case p.own:
		return fmt.Sprintf("%s does not satisfy %s", id, d)
	case p.version == "":
		return fmt.Sprintf("%s provides %s without a version, %s needs one", id, d.Name, d)
	}
	return fmt.Sprintf("%s provides %s=%s, not %s", id, d.Name, p.version, d)
}
