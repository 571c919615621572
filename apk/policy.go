package apk

// Source policy (see SECURITY.md). apk-tools treats every untagged
// repository alike: the highest version of a name wins wherever it comes
// from, so a repository added for one tool, signed by its vendor's key,
// could ship a musl or libcrypto3 above Alpine's and replace them in every
// build. rootfsd narrows that for third-party repositories, those whose
// index verified only with a key of their own (Source.SignedBy), not with
// the backend's trusted keys:
//
//   - a name a trusted repository serves as a package is not taken from an
//     untagged third-party repository;
//   - provides of such names (so:, cmd:, pc: names included) are dropped
//     from the third-party packages, which can no longer satisfy them;
//   - an install_if rule of a third-party package is dropped unless it
//     names a package that repository serves itself: a vendor's -doc or
//     -lang subpackages still follow their package, but no third-party
//     package is pulled into a build that asked for nothing from it.
//
// A tagged repository (@tag) is left alone: apk's pinning already limits
// it to what is asked for as name@tag. To take a package of the main
// repositories' names from a vendor, tag the vendor's repository and ask
// for name@tag.

// thirdPartyPolicy returns repos with the untagged third-party ones
// narrowed as above. trusted are the keys every repository is verified
// with; repositories signed by one of them are trusted ones. The input
// indexes are not modified.
func thirdPartyPolicy(repos []*Repository, trusted *Keyring) []*Repository {
	served := map[string]bool{} // names trusted repositories serve or provide
	var narrow []int
	for i, r := range repos {
		if _, ok := trusted.Lookup(r.Index.Signer); ok {
			for _, p := range r.Index.Packages {
				served[p.Name] = true
				for _, pr := range p.Provides {
					served[pr.Name] = true
				}
			}
		} else if r.Tag == "" {
			narrow = append(narrow, i)
		}
	}
	if len(narrow) == 0 {
		return repos
	}
	out := append([]*Repository(nil), repos...)
	for _, i := range narrow {
		r := *repos[i]
		idx := *r.Index
		own := map[string]bool{}
		for _, p := range idx.Packages {
			own[p.Name] = true
		}
		idx.Packages = nil
		for _, p := range r.Index.Packages {
			if served[p.Name] {
				continue
			}
			p.Provides = keepDeps(p.Provides, func(d Dep) bool { return !served[d.Name] })
			if !anyDep(p.InstallIf, func(d Dep) bool { return own[d.Name] && !served[d.Name] }) {
				p.InstallIf = nil
			}
			idx.Packages = append(idx.Packages, p)
		}
		r.Index = &idx
		out[i] = &r
	}
	return out
}

func keepDeps(deps []Dep, keep func(Dep) bool) []Dep {
	var out []Dep
	for _, d := range deps {
		if keep(d) {
			out = append(out, d)
		}
	}
	return out
}

func anyDep(deps []Dep, fn func(Dep) bool) bool {
	for _, d := range deps {
		if fn(d) {
			return true
		}
	}
	return false
}
