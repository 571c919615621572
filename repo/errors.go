package repo

import (
	"fmt"
	"sort"
	"strings"
)

// UnsatisfiableError is returned when a resolver cannot install what was
// asked. Chain lists the reasons, outermost first ("curl 8.5.0 Depends
// libcurl4t64 (= 8.5.0-2ubuntu10.6): libcurl4t64 has only 8.5.0-2ubuntu10.4").
type UnsatisfiableError struct {
	Request []string
	Chain   []string
}

func (e *UnsatisfiableError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "cannot install %s", strings.Join(e.Request, ", "))
	for _, c := range e.Chain {
		b.WriteString("\n  ")
		b.WriteString(c)
	}
	return b.String()
}

// UnknownPackageError is returned for a name no index knows.
type UnknownPackageError struct {
	Name        string
	Where       string // "ubuntu:24.04 main, universe"
	Suggestions []string
}

func (e *UnknownPackageError) Error() string {
	msg := fmt.Sprintf("package %q is not in %s", e.Name, e.Where)
	if len(e.Suggestions) > 0 {
		msg += "; did you mean " + strings.Join(e.Suggestions, ", ") + "?"
	} else {
		msg += "; check the name, or add a component with --components"
	}
	return msg
}

// Suggest returns up to n names close to name: shared prefix or an edit
// distance small for its length, closest first.
func Suggest(name string, names []string, n int) []string {
	type cand struct {
		s string
		d int
	}
	limit := len(name)/3 + 1
	var cs []cand
	for _, s := range names {
		if s == name {
			continue
		}
		if abs(len(s)-len(name)) > limit+2 && !strings.HasPrefix(s, name) {
			continue
		}
		d := editDistance(name, s, limit+1)
		if strings.HasPrefix(s, name+"-") || strings.HasPrefix(name, s) && len(s) >= 3 {
			d = min(d, limit)
		}
		if d <= limit {
			cs = append(cs, cand{s, d})
		}
	}
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].d != cs[j].d {
			return cs[i].d < cs[j].d
		}
		return cs[i].s < cs[j].s
	})
	out := []string{}
	for i := 0; i < len(cs) && i < n; i++ {
		out = append(out, cs[i].s)
	}
	return out
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// editDistance is the Levenshtein distance, giving up above max.
func editDistance(a, b string, max int) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		best := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			best = min(best, cur[j])
		}
		if best > max {
			return max + 1
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
