package attacks_test

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
)

// attack is one case of the suite: what the attacker does (run), which
// defence must stop it, and how it shows.
type attack struct {
	class   string // the kind of attack, as SECURITY.md lists them
	name    string
	defence string
	// run performs the attack and returns the error rootfsd gave. For
	// cases that are neutralised rather than refused (policy, pinning) it
	// returns nil and an outcome, after checking the result itself.
	run func(t *testing.T) (outcome string, err error)
	// want lists acceptable sentinels (errors.Is); empty means the case
	// must not fail.
	want []error
	// text must appear in the error message.
	text string
	// as, when set, must accept the error (typed errors).
	as func(error) bool
}

// row is one line of the closing table.
type row struct{ suite, class, name, defence, result string }

// results collects the rows of every suite of this test binary; TestMain
// prints them as a table after the run.
var results = struct {
	sync.Mutex
	rows []row
}{}

func record(r row) {
	results.Lock()
	defer results.Unlock()
	results.rows = append(results.rows, r)
}

// runAttacks runs cases as subtests, logging one line per case.
func runAttacks(t *testing.T, suite string, cases []attack) {
	t.Helper()
	seen := map[string]bool{}
	for _, c := range cases {
		if seen[c.name] {
			t.Fatalf("case %q twice", c.name)
		}
		seen[c.name] = true
		t.Run(c.name, func(t *testing.T) {
			result := "no result"
			// Deferred so that a case stopped by t.Fatal is in the table too.
			defer func() {
				if t.Failed() {
					result = "FAILED: " + result
				}
				t.Logf("ATTACK %s | %s | %s | %s", c.class, c.name, c.defence, result)
				record(row{suite, c.class, c.name, c.defence, result})
			}()
			outcome, err := c.run(t)
			result = outcome
			if err != nil {
				result = "error: " + oneLine(err.Error())
			}
			switch {
			case len(c.want) == 0 && c.as == nil:
				if err != nil {
					t.Fatalf("%s: unexpected error: %v", c.name, err)
				}
			case err == nil:
				result = "accepted: " + outcome
				t.Fatalf("%s: the attack succeeded (no error), want %v", c.name, c.want)
			default:
				ok := c.as != nil && c.as(err)
				for _, w := range c.want {
					ok = ok || errors.Is(err, w)
				}
				if !ok {
					t.Fatalf("%s: error %q is not %v", c.name, err, c.want)
				}
				if !strings.Contains(err.Error(), c.text) {
					t.Errorf("%s: error %q lacks %q", c.name, err, c.text)
				}
				result = "refused: " + oneLine(err.Error())
			}
		})
	}
}

// Noise that makes the table long and unstable: test server addresses
// and full digests.
var (
	localURL = regexp.MustCompile(`http://127\.0\.0\.1:[0-9]+`)
	digest   = regexp.MustCompile(`\b([0-9a-f]{12})[0-9a-f]{52}\b`)
)

// oneLine shortens an error for the table.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	s = localURL.ReplaceAllString(s, "")
	s = digest.ReplaceAllString(s, "$1…")
	words := strings.Split(s, " ")
	for i, w := range words {
		if len(w) > 100 { // a hostile name: keep its ends
			words[i] = w[:40] + "…" + w[len(w)-40:]
		}
	}
	s = strings.Join(words, " ")
	s = strings.ReplaceAll(s, "|", "/")
	if len(s) > 300 {
		s = s[:297] + "..."
	}
	return s
}

// TestMain prints the table of every case after the run: with -v, or
// into the file ROOTFSD_ATTACK_TABLE names.
func TestMain(m *testing.M) {
	code := m.Run()
	results.Lock()
	rows := append([]row(nil), results.rows...)
	results.Unlock()
	if len(rows) > 0 {
		table := renderTable(rows)
		if testing.Verbose() {
			fmt.Print(table)
		}
		if p := os.Getenv("ROOTFSD_ATTACK_TABLE"); p != "" {
			if err := os.WriteFile(p, []byte(table), 0o644); err != nil {
				fmt.Fprintln(os.Stderr, err)
				code = 1
			}
		}
	}
	os.Exit(code)
}

func renderTable(rows []row) string {
	var b strings.Builder
	counts := map[string]int{}
	classes := map[string]int{}
	failed := 0
	b.WriteString("\n| suite | attack | case | defence | result |\n|---|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", r.suite, r.class, r.name, r.defence, r.result)
		counts[r.suite]++
		classes[r.class]++
		if strings.HasPrefix(r.result, "FAILED") {
			failed++
		}
	}
	var names []string
	for s := range counts {
		names = append(names, s)
	}
	sort.Strings(names)
	fmt.Fprintf(&b, "\ncases: %d in all, %d failed;", len(rows), failed)
	for _, s := range names {
		fmt.Fprintf(&b, " %s %d;", s, counts[s])
	}
	b.WriteString("\nby attack:")
	names = names[:0]
	for c := range classes {
		names = append(names, c)
	}
	sort.Strings(names)
	for _, c := range names {
		fmt.Fprintf(&b, " %s %d;", c, classes[c])
	}
	b.WriteString("\n")
	return b.String()
}
