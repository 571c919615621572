package apk

import (
	"fmt"
	"sort"
	"strings"
)

// Repository is one index taking part in resolution. Repositories are
// given in priority order: when versions tie, the earlier one wins.
type Repository struct {
	// URL is the repository base; packages are fetched from
	// URL/<Arch>/<name>-<version>.apk.
	URL string
	// Arch is the architecture directory below URL ("x86_64").
	Arch string
	// Tag pins the repository ("edge" for "@edge URL"): its packages are
	// only installed when asked for as name@tag, with their dependencies.
	Tag string
	// Name labels the repository in plans and messages
	// ("v3.19/main/x86_64"); URL/Arch when empty.
	Name string
	// Digest is the SHA256 of the APKINDEX.tar.gz, recorded in plans.
	Digest string
	Index  *Index
}

func (r *Repository) label() string {
	if r.Name != "" {
		return r.Name
	}
	return r.URL + "/" + r.Arch
}

// candidate is a distinct package. As in apk-tools a package is its
// checksum: the same C: in several repositories is one candidate (the
// first record wins).
type candidate struct {
	pkg   *Package
	repos []int // indexes into Resolver.repos, ascending
	seq   int   // first appearance, for deterministic ties
	// selfConflict names a name the package claims twice (apk-tools
	// refuses "p:foo=2 p:foo=3", and a versionless provide of its own
	// name).
	selfConflict string
}

// provider offers a name: a package under its own name (version = the
// package's) or through a provide (version empty when the provide has
// none, a "virtual" provide).
type provider struct {
	c       *candidate
	version string
	own     bool // the package's principal name
}

// Resolver chooses packages from repositories the way apk-tools does. It
// is immutable once built and safe for concurrent Resolve calls.
type Resolver struct {
	repos []*Repository
	cands []*candidate
	names map[string][]provider
	iif   []*candidate // candidates with an install_if rule
}

// NewResolver indexes the packages of repos, in priority order.
func NewResolver(repos []*Repository) (*Resolver, error) {
	r := &Resolver{repos: repos, names: map[string][]provider{}}
	byKey := map[string]*candidate{}
	for ri, repo := range repos {
		if repo == nil || repo.Index == nil {
			return nil, fmt.Errorf("apk: repository %d has no index", ri)
		}
		for pi := range repo.Index.Packages {
			p := &repo.Index.Packages[pi]
			key := p.Checksum
			if c, ok := byKey[key]; ok {
				if c.repos[len(c.repos)-1] != ri {
					c.repos = append(c.repos, ri)
				}
				continue
			}
			c := &candidate{pkg: p, repos: []int{ri}, seq: len(r.cands)}
			byKey[key] = c
			r.cands = append(r.cands, c)
			r.names[p.Name] = append(r.names[p.Name], provider{c: c, version: p.Version, own: true})
			claimed := map[string]bool{p.Name: true}
			for _, pr := range p.Provides {
				if claimed[pr.Name] {
					c.selfConflict = pr.Name
				}
				claimed[pr.Name] = true
				if pr.Name != p.Name {
					r.names[pr.Name] = append(r.names[pr.Name], provider{c: c, version: pr.Version})
				}
			}
			if len(p.InstallIf) > 0 {
				r.iif = append(r.iif, c)
			}
		}
	}
	return r, nil
}

// Names lists every name a package is called or provides, sorted.
func (r *Resolver) Names() []string {
	out := make([]string, 0, len(r.names))
	for n := range r.names {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// packageNames lists the principal package names, for suggestions.
func (r *Resolver) packageNames() []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range r.cands {
		if !seen[c.pkg.Name] {
			seen[c.pkg.Name] = true
			out = append(out, c.pkg.Name)
		}
	}
	sort.Strings(out)
	return out
}

func (r *Resolver) where() string {
	labels := make([]string, len(r.repos))
	for i, repo := range r.repos {
		labels[i] = repo.label()
		if repo.Tag != "" {
			labels[i] = "@" + repo.Tag + " " + labels[i]
		}
	}
	return strings.Join(labels, ", ")
}

// provides reports whether the provider satisfies d as apk-tools'
// apk_dep_is_provided does, ignoring d.Conflict: a versioned relation
// needs a versioned provider.
func provides(d Dep, p provider) bool {
	switch d.Op {
	case OpAny, 0:
		return true
	case OpChecksum:
		return p.c.pkg.Checksum == d.Version
	}
	if p.version == "" {
		return false
	}
	return d.MatchVersion(p.version)
}

// allows reports whether a provider is acceptable under d, conflicts
// included: "!x" rejects every provider of x that it matches.
func allows(d Dep, p provider) bool {
	if d.Conflict {
		return !provides(d, p)
	}
	return provides(d, p)
}

// Goal is one entry of the world: a dependency the result must satisfy and
// the reason recorded for it ("requested", "variant base").
type Goal struct {
	Dep    Dep
	Reason string
}

// Resolved is one package of a solution.
type Resolved struct {
	Package    *Package
	Repository *Repository
	// Reason says why the package is there: "requested", "depends of
	// busybox (so:libc.musl-x86_64.so.1)", "install_if (busybox=1.36.1-r15
	// libssl3)".
	Reason string
	// Depends are the names of the packages its dependencies resolved to.
	Depends []string
}

// Solution is the outcome of Resolve, in install order: every package
// after the packages it depends on (cycles broken as apk-tools does).
type Solution struct {
	Packages []Resolved
}

// Find returns the resolved package called name, or nil.
func (s *Solution) Find(name string) *Resolved {
	for i := range s.Packages {
		if s.Packages[i].Package.Name == name {
			return &s.Packages[i]
		}
	}
	return nil
}
