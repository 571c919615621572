package layering

import (
	"fmt"
	"path"
	"slices"
	"strings"
)

// Strategies a build accepts.
const (
	// Single is one layer holding everything (the default).
	Single = "single"
	// Groups is one layer per base or large package, then the rest.
	Groups = "groups"
)

// Version names the splitting rule. It is part of a split's cache key:
// bump it whenever the rule, the tar writing or a built-in base list
// changes the layers' bytes.
const Version = "groups-v1"

// DefaultThreshold is the size of installed files above which a package
// gets its own layer even when it is not a base package.
const DefaultThreshold = 8 << 20

// maxDatabase bounds the package database files read from a layer.
const maxDatabase = 256 << 20

// Check returns an error unless s names a strategy ("" means Single).
func Check(s string) error {
	switch s {
	case "", Single, Groups:
		return nil
	}
	return fmt.Errorf("layering %q: use %s (one layer holding everything) or %s (base and large packages in their own layers)", s, Single, Groups)
}

// Database reads the package database inside a tree: which package owns
// which path.
type Database struct {
	// Match reports whether the regular file at name (a tar name without
	// "./" or a trailing slash) belongs to the database.
	Match func(name string) bool
	// Parse turns the matched files (name to content) into the paths each
	// package owns, as the database spells them: absolute or relative,
	// possibly through symlinked directories (/lib on a merged-/usr tree),
	// which the splitter resolves in the tree.
	Parse func(files map[string][]byte) (map[string][]string, error)
}

// Rules choose the packages that get a layer of their own.
type Rules struct {
	// Base are path.Match patterns of package names ("libc6",
	// "python3.*-minimal"), in layer order, bottom first. Names carry no
	// architecture qualifier (":amd64" is ignored when matching).
	Base []string
	// Threshold is the size of a package's installed regular files above
	// which it gets a layer too: 0 means DefaultThreshold, negative never.
	Threshold int64
}

// Group is one layer of a split, bottom first.
type Group struct {
	// Packages holds the package of a group layer; it is empty for the
	// last layer (every other package, and files no package owns).
	Packages []string `json:"packages,omitempty"`
	// Entries is the number of tar entries written, Bytes the size of the
	// regular files among them.
	Entries int   `json:"entries"`
	Bytes   int64 `json:"bytes"`
}

// choose returns the packages that get a layer, in layer order: base
// packages in the order of rules.Base (names matching one pattern sorted),
// then packages above the threshold, sorted. Packages owning nothing are
// left out.
func choose(sizes map[string]int64, owns map[string]int, rules Rules) []string {
	names := make([]string, 0, len(owns))
	for n := range owns {
		names = append(names, n)
	}
	slices.Sort(names)
	taken := map[string]bool{}
	var out []string
	for _, pat := range rules.Base {
		for _, n := range names {
			bare, _, _ := strings.Cut(n, ":")
			if ok, _ := path.Match(pat, bare); ok && !taken[n] {
				taken[n] = true
				out = append(out, n)
			}
		}
	}
	limit := rules.Threshold
	if limit == 0 {
		limit = DefaultThreshold
	}
	if limit > 0 {
		for _, n := range names {
			if !taken[n] && sizes[n] > limit {
				taken[n] = true
				out = append(out, n)
			}
		}
	}
	return out
}
