package spec

import (
	"fmt"
	"strings"

	"github.com/rootfsd/rootfsd/repo"
)

// suggestion is "; did you mean X?" when one of valid is near value (a
// typo, or a unique prefix of at least three letters such as "dir"), else "".
func suggestion(value string, valid []string) string {
	v := strings.ToLower(strings.TrimSpace(value))
	var prefixed []string
	for _, c := range valid {
		if len(v) >= 3 && strings.HasPrefix(c, v) {
			prefixed = append(prefixed, c)
		}
	}
	best := closest(v, valid)
	if len(prefixed) == 1 {
		best = prefixed[0]
	}
	if best == "" || best == value {
		return ""
	}
	return fmt.Sprintf("; did you mean %q?", best)
}

// distroNames are the spellings of every release distro: takes.
func distroNames() []string {
	var out []string
	for _, d := range repo.Catalog() {
		out = append(out, d.Name(), d.ID+":"+d.Codename)
		if d.Family == repo.FamilyDeb {
			out = append(out, d.Codename)
		}
		for _, a := range d.Aliases {
			out = append(out, d.ID+":"+a)
		}
	}
	return out
}

func variantNames() []string {
	var out []string
	for _, v := range repo.Variants {
		out = append(out, string(v))
	}
	return out
}

// outputSuggestion suggests the output with its kind corrected.
func outputSuggestion(o string) string {
	kind, dest, ok := strings.Cut(o, ":")
	if !ok {
		return ""
	}
	s := suggestion(kind, outputKinds)
	if s == "" {
		return ""
	}
	fixed := strings.TrimSuffix(strings.TrimPrefix(s, "; did you mean \""), "\"?")
	return fmt.Sprintf("; did you mean %q?", fixed+":"+dest)
}
