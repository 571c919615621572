package lockdiff

import (
	"fmt"
	"sort"
	"strings"

	"github.com/rootfsd/rootfsd/repo"
)

// ChangeKind says how a package differs.
type ChangeKind string

const (
	Added      ChangeKind = "added"
	Removed    ChangeKind = "removed"
	Upgraded   ChangeKind = "upgraded"
	Downgraded ChangeKind = "downgraded"
	// Rebuilt is the same version with a different file or hash: a
	// re-signed or rebuilt package, worth a look in a review.
	Rebuilt ChangeKind = "rebuilt"
	// Changed is a different version when no ordering was given.
	Changed ChangeKind = "changed"
)

// Change is one package that differs.
type Change struct {
	Kind ChangeKind `json:"kind"`
	Name string     `json:"name"`
	Arch string     `json:"arch,omitempty"`
	// From and To are the versions in A and B; one is empty for Added and
	// Removed.
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	// Suite is where B's version comes from (A's for Removed).
	Suite string `json:"suite,omitempty"`
}

func (c Change) String() string {
	switch c.Kind {
	case Added:
		return fmt.Sprintf("+ %s %s", c.Name, c.To)
	case Removed:
		return fmt.Sprintf("- %s %s", c.Name, c.From)
	}
	return fmt.Sprintf("~ %s %s -> %s (%s)", c.Name, c.From, c.To, c.Kind)
}

// Field is a lock-level value that differs: distro, arch, variant, the
// request's packages, an index.
type Field struct {
	Name string `json:"name"`
	From string `json:"from"`
	To   string `json:"to"`
}

// Result is the difference of two locks (or of two trees' package sets).
type Result struct {
	Fields   []Field  `json:"fields,omitempty"`
	Packages []Change `json:"packages"`
	Files    []File   `json:"files,omitempty"`
}

// Empty reports whether nothing differs.
func (r *Result) Empty() bool {
	return len(r.Fields) == 0 && len(r.Packages) == 0 && len(r.Files) == 0
}

// Options configure a comparison.
type Options struct {
	// Compare orders two versions (negative, zero, positive), e.g.
	// deb.CompareVersions; nil reports Changed instead of Upgraded or
	// Downgraded.
	Compare func(a, b string) int
}

// Locks compares two locks.
func Locks(a, b *repo.Lock, opts Options) *Result {
	r := &Result{}
	field := func(name, x, y string) {
		if x != y {
			r.Fields = append(r.Fields, Field{Name: name, From: x, To: y})
		}
	}
	field("distro", a.Distro, b.Distro)
	field("arch", a.Arch, b.Arch)
	field("variant", string(a.Variant), string(b.Variant))
	field("request.packages", strings.Join(a.Request.Packages, " "), strings.Join(b.Request.Packages, " "))
	field("request.components", strings.Join(a.Request.Components, " "), strings.Join(b.Request.Components, " "))
	field("request.recommends", fmt.Sprint(a.Request.Recommends), fmt.Sprint(b.Request.Recommends))
	field("request.sources", sourcesString(a.Request.Sources), sourcesString(b.Request.Sources))
	ai, bi := indexMap(a.Indexes), indexMap(b.Indexes)
	for _, name := range unionKeys(ai, bi) {
		x, y := ai[name], bi[name]
		if x.Digest != y.Digest {
			field("index "+name, indexString(x), indexString(y))
		}
	}
	r.Packages = Packages(a.Packages, b.Packages, opts)
	return r
}

// Packages compares two package sets by name and architecture.
func Packages(a, b []repo.Planned, opts Options) []Change {
	key := func(p repo.Planned) string { return p.Name + "\x00" + p.Arch }
	am, bm := map[string]repo.Planned{}, map[string]repo.Planned{}
	for _, p := range a {
		am[key(p)] = p
	}
	for _, p := range b {
		bm[key(p)] = p
	}
	var out []Change
	for k, x := range am {
		y, ok := bm[k]
		switch {
		case !ok:
			out = append(out, Change{Kind: Removed, Name: x.Name, Arch: x.Arch, From: x.Version, Suite: x.Suite})
		case x.Version != y.Version:
			kind := Changed
			if opts.Compare != nil {
				kind = Upgraded
				if opts.Compare(x.Version, y.Version) > 0 {
					kind = Downgraded
				}
			}
			out = append(out, Change{Kind: kind, Name: x.Name, Arch: x.Arch, From: x.Version, To: y.Version, Suite: y.Suite})
		case x.SHA256 != y.SHA256 || x.Checksum != y.Checksum || x.Filename != y.Filename || x.Size != y.Size:
			out = append(out, Change{Kind: Rebuilt, Name: x.Name, Arch: x.Arch, From: x.Version, To: y.Version, Suite: y.Suite})
		}
	}
	for k, y := range bm {
		if _, ok := am[k]; !ok {
			out = append(out, Change{Kind: Added, Name: y.Name, Arch: y.Arch, To: y.Version, Suite: y.Suite})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].Arch < out[j].Arch
	})
	return out
}

func indexMap(ix []repo.Index) map[string]repo.Index {
	m := map[string]repo.Index{}
	for _, i := range ix {
		m[i.Name] = i
	}
	return m
}

func unionKeys(a, b map[string]repo.Index) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range []map[string]repo.Index{a, b} {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return out
}

func indexString(i repo.Index) string {
	if i.Digest == "" {
		return ""
	}
	d := i.Digest
	if len(d) > 12 {
		d = d[:12]
	}
	if i.Date != "" {
		return i.Date + " " + d
	}
	return d
}

func sourcesString(ss []repo.Source) string {
	var out []string
	for _, s := range ss {
		out = append(out, s.String())
	}
	return strings.Join(out, "; ")
}
