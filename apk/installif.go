package apk

import "sort"

// triggerInstallIf queues every package whose install_if rule the current
// selection satisfies; it reports whether it queued any.
func (s *state) triggerInstallIf() bool {
	best := map[string]provider{}
	for _, c := range s.r.iif {
		if s.byCand[c] != nil || s.l.noIIF[c] || len(s.provided[c.pkg.Name]) > 0 || !s.installIfMet(c.pkg.InstallIf) {
			continue
		}
		if _, ok := s.tagOK(c, s.allTags); !ok || s.blocked(c) != "" {
			continue
		}
		p := provider{c: c, version: c.pkg.Version, own: true}
		if cur, ok := best[c.pkg.Name]; !ok || s.better(p, cur, req{}) {
			best[c.pkg.Name] = p
		}
	}
	names := make([]string, 0, len(best))
	for n := range best {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		c := best[n].c
		s.queue = append(s.queue, req{
			dep:    Dep{Name: n, Op: OpChecksum, Version: c.pkg.Checksum},
			tags:   s.allTags,
			force:  c,
			reason: "install_if (" + FormatDeps(c.pkg.InstallIf) + ")",
		})
	}
	return len(names) > 0
}

// checkInstallIf verifies at the fixed point that every install_if package
// still has its conditions met: a "!name" condition may have been broken
// by a package selected after it was triggered.
func (s *state) checkInstallIf() *failure {
	for _, x := range s.sels {
		if x.iif && !s.installIfMet(x.c.pkg.InstallIf) {
			s.l.noIIF[x.c] = true
			return &failure{learned: true, err: s.unsatisfiable([]string{
				x.reason + " of " + x.c.pkg.ID() + " no longer holds"})}
		}
	}
	return nil
}

func (s *state) installIfMet(rule []Dep) bool {
	for _, d := range rule {
		met := false
		for _, pe := range s.provided[d.Name] {
			if provides(d, pe.p) {
				met = true
				break
			}
		}
		if met == d.Conflict {
			return false
		}
	}
	return true
}
