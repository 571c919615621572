package deb

import "fmt"

// markInstall is pkgDepCache::MarkInstall. With autoInst false it only
// marks name (apt-get's first pass over the requested packages); with
// autoInst true it also installs the dependencies, depth first.
func (r *resolver) markInstall(name string, autoInst bool, depth int, fromUser bool, reason string) bool {
	if depth > 3000 {
		return false
	}
	if _, ok := r.installed[name]; ok {
		return true
	}
	s, err := r.st(name)
	if err != nil {
		r.errs = append(r.errs, err.Error())
		return false
	}
	if s.cand == nil {
		return false
	}
	// IsModeChangeOk: only the user changes a protected package's mode.
	if !fromUser && s.protected && !s.install {
		return false
	}
	if !s.protected && s.install {
		return true
	}
	if !autoInst {
		r.stateChange(name, s, reason)
		return true
	}
	failEarly := !s.protected && !fromUser

	// Conflicts and Breaks against what is already marked: from an empty
	// system apt could only remove the other package, which it does not
	// do for packages it just chose; treat it as a failure of this choice.
	if !s.install {
		if msg := r.conflictsWithMarked(s.cand); msg != "" {
			r.errs = append(r.errs, fmt.Sprintf("%s %s %s", name, s.cand.Version, msg))
			if failEarly {
				return false
			}
		}
	}

	// MarkInstall_CollectDependencies: skip groups already satisfied,
	// unless protection has to be propagated.
	var toInstall []int
	groups := r.importantGroups(s.cand)
	for gi, g := range groups {
		if r.groupSatisfied(g) && !s.protected {
			continue
		}
		toInstall = append(toInstall, gi)
	}
	r.stateChange(name, s, reason)

	propagate := s.protected
	if !propagate {
		s.protected = true // ScopedProtected
		defer func() { s.protected = false }()
	}
	failed := r.installDependencies(s.cand, groups, toInstall, depth, propagate, fromUser)
	if failed && failEarly {
		r.discard(name, s)
		return false
	}
	return !failed
}

func (r *resolver) stateChange(name string, s *pkgState, reason string) {
	if s.install {
		return
	}
	s.install = true
	s.reason = reason
	r.order = append(r.order, name)
}

// discard is MarkInstall_DiscardInstall: the package goes back to not
// being installed; what was marked for it stays, as in apt.
func (r *resolver) discard(name string, s *pkgState) {
	s.install = false
	for i, n := range r.order {
		if n == name {
			r.order = append(r.order[:i], r.order[i+1:]...)
			break
		}
	}
}

// installDependencies is MarkInstall_InstallDependencies.
func (r *resolver) installDependencies(c *Candidate, groups []OrGroup, toInstall []int, depth int, propagate, fromUser bool) (failed bool) {
	for _, gi := range toInstall {
		g := groups[gi]
		critical := r.critical(c, gi)
		reason := fmt.Sprintf("%s of %s (%s)", depKind(c, gi), c.Name, g.String())
		if r.groupSatisfied(g) {
			if !propagate || !critical {
				continue
			}
			sols, err := r.solutions(g, false)
			if err != nil {
				r.errs = append(r.errs, err.Error())
				return true
			}
			if len(sols) != 1 {
				continue
			}
			ps := r.state[sols[0].Name]
			if ps.protected {
				continue
			}
			ps.protected = true
			if !r.markInstall(sols[0].Name, true, depth+1, false, reason) {
				failed = true
			}
			continue
		}
		sols, err := r.solutions(g, true)
		if err != nil {
			r.errs = append(r.errs, err.Error())
			return true
		}
		found := false
		for _, sol := range sols {
			ps := r.state[sol.Name]
			if ps.cand != sol {
				continue
			}
			if propagate && critical && len(sols) == 1 {
				if !r.markInstall(sol.Name, false, depth+1, false, reason) {
					continue
				}
				ps.protected = true
			}
			if !r.markInstall(sol.Name, true, depth+1, false, reason) {
				continue
			}
			found = true
			break
		}
		if !found && critical {
			failed = true
			r.errs = append(r.errs, r.explain(c, gi, g, sols))
			if !propagate && !fromUser {
				break
			}
		}
	}
	return failed
}

// explain says why no alternative of g could be installed.
func (r *resolver) explain(c *Candidate, gi int, g OrGroup, sols []*Candidate) string {
	msg := fmt.Sprintf("%s %s %s %s", c.Name, c.Version, depKind(c, gi), g.String())
	if len(sols) == 0 {
		var parts []string
		for _, d := range g {
			vs, _ := r.u.versionsLocked(d.Name)
			switch {
			case len(vs) == 0 && len(r.u.providing(d.Name)) == 0:
				parts = append(parts, d.Name+" is not in any index")
			case len(vs) > 0:
				parts = append(parts, fmt.Sprintf("%s has only %s", d.Name, vs[0].Version))
			default:
				parts = append(parts, d.Name+" is virtual and no provider satisfies it")
			}
		}
		return msg + ": " + joinReasons(parts)
	}
	var names []string
	for _, s := range sols {
		names = append(names, s.Name+" "+s.Version)
	}
	return msg + ": cannot install any of " + joinReasons(names)
}
