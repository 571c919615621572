package deb

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// compareCases are "a b want" triples: apt's test/libapt/versions.lst
// (which apt also checks against dpkg --compare-versions), the comparisons
// of dpkg's lib/dpkg/t/t-version.c, and the ordering example of Debian
// policy 5.6.12.
var compareCases = []struct {
	a, b string
	want int
}{
	// versions.lst
	{"7.6p2-4", "7.6-0", 1},
	{"1.0.3-3", "1.0-1", 1},
	{"1.3", "1.2.2-2", 1},
	{"1.3", "1.2.2", 1},
	{"1:0.4", "10.3", 1},
	{"1:1.25-4", "1:1.25-8", -1},
	{"0:1.18.36", "1.18.36", 0},
	{"1.18.36", "1.18.35", 1},
	{"0:1.18.36", "1.18.35", 1},
	{"9:1.18.36:5.4-20", "10:0.5.1-22", -1},
	{"9:1.18.36:5.4-20", "9:1.18.36:5.5-1", -1},
	{"9:1.18.36:5.4-20", "9:1.18.37:4.3-22", -1},
	{"1.18.36-0.17.35-18", "1.18.36-19", 1},
	{"1:1.2.13-3", "1:1.2.13-3.1", -1},
	{"2.0.7pre1-4", "2.0.7r-1", -1},
	{"0-pre", "0-pre", 0},
	{"0-pre", "0-pree", -1},
	{"1.1.6r2-2", "1.1.6r-1", 1},
	{"2.6b2-1", "2.6b-2", 1},
	{"98.1p5-1", "98.1-pre2-b6-2", -1},
	{"0.4a6-2", "0.4-1", 1},
	{"1:3.0.5-2", "1:3.0.5.1", -1},
	{"3.0~rc1-1", "3.0-1", -1},
	{"1.0", "1.0-0", 0},
	{"0.2", "1.0-0", -1},
	{"1.0", "1.0-0+b1", -1},
	{"1.0", "1.0-0~", 1},
	{"0:0-0-0", "0-0", 1},
	{"0", "0", 0},
	{"0", "00", 0},
	{"1.2.3", "1.2.3", 0},
	{"4.4.3-2", "4.4.3-2", 0},
	{"1:2ab:5", "1:2ab:5", 0},
	{"7:1-a:b-5", "7:1-a:b-5", 0},
	{"57:1.2.3abYZ+~-4-5", "57:1.2.3abYZ+~-4-5", 0},
	{"1.2.3", "0:1.2.3", 0},
	{"1.2.3", "1.2.3-0", 0},
	{"009", "9", 0},
	{"009ab5", "9ab5", 0},
	{"1.2.3", "1.2.3-1", -1},
	{"1.2.3", "1.2.4", -1},
	{"1.2.4", "1.2.3", 1},
	{"1.2.24", "1.2.3", 1},
	{"0.10.0", "0.8.7", 1},
	{"3.2", "2.3", 1},
	{"1.3.2a", "1.3.2", 1},
	{"0.5.0~git", "0.5.0~git2", -1},
	{"2a", "21", -1},
	{"1.3.2a", "1.3.2b", -1},
	{"1:1.2.3", "1.2.4", 1},
	{"1:1.2.3", "1:1.2.4", -1},
	{"1.2a+~bCd3", "1.2a++", -1},
	{"1.2a+~bCd3", "1.2a+~", 1},
	{"5:2", "304-2", 1},
	{"5:2", "304:2", -1},
	{"25:2", "3:2", 1},
	{"1:2:123", "1:12:3", -1},
	{"1.2-5", "1.2-3-5", -1},
	{"5.10.0", "5.005", 1},
	{"3a9.8", "3.10.2", -1},
	{"3a9.8", "3~10", 1},
	{"1.4+OOo3.0.0~", "1.4+OOo3.0.0-4", -1},
	{"2.4.7-1", "2.4.7-z", -1},
	{"1.002-1+b2", "1.00", 1},
	// t-version.c
	{"0-0", "00-00", 0},
	{"1:2-3", "1:2-3", 0},
	{"0-0", "1:0-0", -1},
	{"a-0", "b-0", -1},
	{"0-a", "0-b", -1},
	{"1-1", "2-1", -1},
	{"1-1", "1-2", -1},
	// policy: ~~ < ~~a < ~ < (empty) < a
	{"1~~", "1~~a", -1},
	{"1~~a", "1~", -1},
	{"1~", "1", -1},
	{"1", "1a", -1},
	// letters sort before other non-digits, '~' before the end
	{"1a", "1+", -1},
	{"1.0~rc1", "1.0", -1},
	{"1.0+dfsg", "1.0.1", -1},
	{"2147483647:1", "2147483646:9", 1},
	{"2.38-1ubuntu6", "2.38-1ubuntu6.3", -1},
	{"  1.0  ", "1.0", 0},
}

func TestCompareVersions(t *testing.T) {
	for _, tc := range compareCases {
		if got := CompareVersions(tc.a, tc.b); got != tc.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := CompareVersions(tc.b, tc.a); got != -tc.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", tc.b, tc.a, got, -tc.want)
		}
		va, erra := ParseVersion(tc.a)
		vb, errb := ParseVersion(tc.b)
		if erra == nil && errb == nil {
			if got := va.Compare(vb); got != tc.want {
				t.Errorf("%+v.Compare(%+v) = %d, want %d", va, vb, got, tc.want)
			}
		}
	}
}

func TestCompareVersionsAllocs(t *testing.T) {
	n := testing.AllocsPerRun(100, func() {
		for _, tc := range compareCases {
			CompareVersions(tc.a, tc.b)
		}
	})
	if n != 0 {
		t.Errorf("CompareVersions allocates %v times per run", n)
	}
}

func TestParseVersion(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Version
		str  string
	}{
		{"0", Version{0, "0", ""}, "0"},
		{"0:0", Version{0, "0", ""}, "0"},
		{"0:0-0", Version{0, "0", "0"}, "0-0"},
		{"0:0.0-0.0", Version{0, "0.0", "0.0"}, "0.0-0.0"},
		{"1:0", Version{1, "0", ""}, "1:0"},
		{"5:1", Version{5, "1", ""}, "5:1"},
		{"0:0-0-0", Version{0, "0-0", "0"}, "0-0-0"},
		{"0:0-0-0-0", Version{0, "0-0-0", "0"}, "0-0-0-0"},
		{"0:0:0-0", Version{0, "0:0", "0"}, "0:0:0-0"},
		{"0:0:0:0-0", Version{0, "0:0:0", "0"}, "0:0:0:0-0"},
		{"0:0:0-0-0", Version{0, "0:0-0", "0"}, "0:0:0-0-0"},
		{"0:0-0:0-0", Version{0, "0-0:0", "0"}, "0:0-0:0-0"},
		{"0:09azAZ.-+~:-0", Version{0, "09azAZ.-+~:", "0"}, "0:09azAZ.-+~:-0"},
		{"0:0-azAZ09.+~", Version{0, "0", "azAZ09.+~"}, "0-azAZ09.+~"},
		{"  \t0:0-1", Version{0, "0", "1"}, "0-1"},
		{"0:0-1\t  ", Version{0, "0", "1"}, "0-1"},
		{"\t  0:0-1  \t", Version{0, "0", "1"}, "0-1"},
		{"2147483647:1.0", Version{2147483647, "1.0", ""}, "2147483647:1.0"},
		{"007:1.0", Version{7, "1.0", ""}, "7:1.0"},
		{"2.38-1ubuntu6.3", Version{0, "2.38", "1ubuntu6.3"}, "2.38-1ubuntu6.3"},
	} {
		got, err := ParseVersion(tc.in)
		if err != nil {
			t.Errorf("ParseVersion(%q): %v", tc.in, err)
			continue
		}
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("ParseVersion(%q) (-want +got):\n%s", tc.in, d)
		}
		if s := got.String(); s != tc.str {
			t.Errorf("ParseVersion(%q).String() = %q, want %q", tc.in, s, tc.str)
		}
	}
}

func TestParseVersionErrors(t *testing.T) {
	cases := map[string]string{
		"":                             "empty",
		"  ":                           "empty",
		"0:":                           "nothing after colon",
		":1.0":                         "epoch in version is empty",
		"1.0-":                         "revision number is empty",
		"0:0 0-1":                      "embedded spaces",
		"-1:0-1":                       "not number",
		"999999999999999999999999:0-1": "too big",
		"2147483648:0":                 "too big",
		"a:0-0":                        "not number",
		"A:0-0":                        "not number",
		"-0":                           "version number is empty",
		"0:-0":                         "version number is empty",
		"0:abc3-0":                     "does not start with digit",
		"0:0-0:0":                      "invalid character ':' in revision",
		"1.0\n-1":                      "embedded spaces",
	}
	for _, c := range "!#@$%&/|\\<>()[]{};,_=*^'" {
		cases["0:0"+string(c)+"-0"] = "invalid character"
	}
	for _, c := range "!#@$%&/|\\<>()[]{}:;,_=*^'" {
		cases["0:0-0"+string(c)] = "invalid character"
	}
	for in, want := range cases {
		_, err := ParseVersion(in)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "version ") {
			t.Errorf("ParseVersion(%q) = %v, want an error containing %q", in, err, want)
		}
	}
}

func TestSatisfies(t *testing.T) {
	// dpkg's test_version_relate, plus OpAny.
	for _, tc := range []struct {
		have, want string
		ok         [6]bool // OpAny, OpLT, OpLE, OpEQ, OpGE, OpGT
	}{
		{"1-1", "1-1", [6]bool{true, false, true, true, true, false}},
		{"1-1", "2-1", [6]bool{true, true, true, false, false, false}},
		{"2-1", "1-1", [6]bool{true, false, false, false, true, true}},
		{"1.0", "1.0-0", [6]bool{true, false, true, true, true, false}},
	} {
		for op := OpAny; op <= OpGT; op++ {
			if got := Satisfies(tc.have, op, tc.want); got != tc.ok[op] {
				t.Errorf("Satisfies(%q, %s, %q) = %v", tc.have, op, tc.want, got)
			}
		}
	}
	if Op(99).Satisfied(0) {
		t.Error("an unknown Op is satisfied")
	}
}

func BenchmarkCompareVersions(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		CompareVersions("1:2.38-1ubuntu6.3", "1:2.38-1ubuntu6~rc1")
		CompareVersions("3.0.13-0ubuntu3.4", "3.0.13-0ubuntu3")
	}
}

func FuzzCompareVersions(f *testing.F) {
	for _, tc := range compareCases[:20] {
		f.Add(tc.a, tc.b, "1.0")
	}
	f.Add("1~", "1", "1a")
	f.Add("1:", "0:1", "a:b-c")
	f.Add("\x00", "~", "")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		ab, ba := CompareVersions(a, b), CompareVersions(b, a)
		if ab != -ba || ab < -1 || ab > 1 {
			t.Fatalf("cmp(%q, %q) = %d but cmp(b, a) = %d", a, b, ab, ba)
		}
		if CompareVersions(a, a) != 0 {
			t.Fatalf("cmp(%q, itself) != 0", a)
		}
		bc, ac := CompareVersions(b, c), CompareVersions(a, c)
		if ab <= 0 && bc <= 0 && ac > 0 || ab >= 0 && bc >= 0 && ac < 0 {
			t.Fatalf("not transitive: cmp(a, b)=%d cmp(b, c)=%d cmp(a, c)=%d for %q %q %q", ab, bc, ac, a, b, c)
		}
		va, err := ParseVersion(a)
		if err != nil {
			return
		}
		s := va.String()
		if again, err := ParseVersion(s); err != nil || again != va {
			t.Fatalf("ParseVersion(%q).String() = %q parses to %+v, %v", a, s, again, err)
		}
		if CompareVersions(a, s) != 0 {
			t.Fatalf("cmp(%q, its canonical form %q) != 0", a, s)
		}
		if vb, err := ParseVersion(b); err == nil && va.Compare(vb) != ab {
			t.Fatalf("Version.Compare and CompareVersions differ on %q, %q", a, b)
		}
	})
}
