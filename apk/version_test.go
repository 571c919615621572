package apk

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

// testdata/version.data is apk-tools' own table (test/version.data of
// apk-tools v2.14.4): "a op b" per line, op one of < = >.
func TestCompareVersionsAPKTools(t *testing.T) {
	f, err := os.Open("testdata/version.data")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for line := 1; sc.Scan(); line++ {
		text, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(text)
		if len(fields) == 0 {
			continue
		}
		if len(fields) != 3 {
			t.Fatalf("version.data:%d: malformed %q", line, sc.Text())
		}
		a, op, b := fields[0], fields[1], fields[2]
		want := map[string]int{"<": -1, "=": 0, ">": 1}[op]
		if got := CompareVersions(a, b); got != want {
			t.Errorf("version.data:%d: CompareVersions(%q, %q) = %d, want %d (%s)", line, a, b, got, want, op)
		}
		if got := CompareVersions(b, a); got != -want {
			t.Errorf("version.data:%d: CompareVersions(%q, %q) = %d, want %d", line, b, a, got, -want)
		}
		n++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 700 {
		t.Fatalf("only %d vectors read", n)
	}
}

func TestCompareVersionsSuffixes(t *testing.T) {
	// Each version is strictly less than the next.
	ordered := []string{
		"1.0_alpha", "1.0_alpha2", "1.0_beta", "1.0_pre", "1.0_rc", "1.0_rc1",
		"1.0", "1.0-r1", "1.0-r2", "1.0-r10",
		"1.0_cvs", "1.0_svn", "1.0_git", "1.0_git20230717", "1.0_hg", "1.0_p", "1.0_p1",
		"1.0a", "1.0b", "1.0.1", "1.1", "2",
	}
	for i := range ordered {
		for j := range ordered {
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got := CompareVersions(ordered[i], ordered[j]); got != want {
				t.Errorf("CompareVersions(%q, %q) = %d, want %d", ordered[i], ordered[j], got, want)
			}
		}
	}
}

func TestValidVersion(t *testing.T) {
	for _, tc := range []struct {
		v    string
		want bool
	}{
		{"1.2", true}, {"1.2.4_git20230717-r4", true}, {"0.1_pre2", true}, {"2.1_p20230410-r3", true},
		{"0.1_p1_pre2", true}, {"20240226-r0", true}, {"1.0a", true},
		{"", false}, {"a", false}, {".1", false}, {"0.1_foobar", false}, {"0.1-r", false},
		{"0.1-r2-r3", false}, {"0.1-r2.1", false}, {"0.1_", false}, {"1.0-", false}, {"0.1bc", false},
	} {
		if got := ValidVersion(tc.v); got != tc.want {
			t.Errorf("ValidVersion(%q) = %v, want %v", tc.v, got, tc.want)
		}
	}
}

// The fuzzy relations of apk-tools' later test table (test/unit/version.data
// of apk-tools 3): "a op b" holds, "a !op b" does not.
func TestFuzzyRelations(t *testing.T) {
	for _, line := range []string{
		"3.6.0 ~ 3.6", "3.6.9 ~ 3.6", "3.6_pre1 ~ 3.6", "3.6.0_pre1 ~ 3.6", "3.6.9_post1 ~ 3.6",
		"3.6.0 ~ 3.6.0", "3.5 <~ 3.6", "3.7 >~ 3.6", "3.6.0 !~ 3.8", "3.6.9 !~ 3.8", "3.8 !~ 3.8.1",
		"3.8.0 !~ 3.8.1", "3.8.0.1 !~ 3.8.1", "3.6_pre1 !~ 3.8", "3.6.0_pre1 !~ 3.8", "3.6.9_post1 !~ 3.8",
	} {
		f := strings.Fields(line)
		op, negate := strings.CutPrefix(f[1], "!")
		d, err := ParseDep("x" + op + f[2])
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		if got := d.MatchVersion(f[0]); got == negate {
			t.Errorf("%s: MatchVersion = %v", line, got)
		}
	}
}
