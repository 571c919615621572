package apk

// solution orders the selection as apk-tools' changeset generation does
// (solver.c, cset_gen_name_change): depth first from the world entries in
// their order, each package after its dependencies in D: order, a package
// marked before its dependencies are visited so that cycles end; after each
// package, install_if packages whose every condition is now installed.
func (s *state) solution() *Solution {
	visited := map[*sel]bool{}
	done := map[*sel]bool{}
	var out []*sel
	var iifs []*sel
	for _, x := range s.sels {
		if x.iif {
			iifs = append(iifs, x)
		}
	}
	var visit func(x *sel)
	visit = func(x *sel) {
		if x == nil || visited[x] {
			return
		}
		visited[x] = true
		for _, d := range x.c.pkg.Depends {
			// apk-tools also places what a conflict names first.
			visit(s.providerOf(d))
		}
		out = append(out, x)
		done[x] = true
		for _, y := range iifs {
			if !visited[y] && s.iifDone(y, done) {
				visit(y)
			}
		}
	}
	for _, g := range s.world {
		visit(s.providerOf(g.Dep))
	}
	for _, x := range s.sels {
		visit(x)
	}
	sol := &Solution{Packages: make([]Resolved, len(out))}
	for i, x := range out {
		sol.Packages[i] = Resolved{
			Package:    x.c.pkg,
			Repository: s.r.repos[x.repo],
			Reason:     x.reason,
			Depends:    x.deps,
		}
	}
	return sol
}

// providerOf returns the selected package satisfying d; for a conflict,
// the package chosen for its name, if any.
func (s *state) providerOf(d Dep) *sel {
	for _, pe := range s.provided[d.Name] {
		if d.Conflict || provides(d, pe.p) {
			return pe.s
		}
	}
	return nil
}

// iifDone reports whether every positive install_if condition of y is met
// by a package already placed.
func (s *state) iifDone(y *sel, done map[*sel]bool) bool {
	for _, d := range y.c.pkg.InstallIf {
		if d.Conflict {
			continue
		}
		if x := s.providerOf(d); x == nil || !done[x] {
			return false
		}
	}
	return true
}
