package deb

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseRelations(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []OrGroup
		str  string // canonical form, when it differs from in
	}{
		{"", nil, ""},
		{" \n\t", nil, ""},
		{"libc6", []OrGroup{{{Name: "libc6"}}}, ""},
		{"libc6 (>= 2.38), debconf (>= 0.5) | debconf-2.0", []OrGroup{
			{{Name: "libc6", Op: OpGE, Version: "2.38"}},
			{{Name: "debconf", Op: OpGE, Version: "0.5"}, {Name: "debconf-2.0"}},
		}, ""},
		// Every operator; obsolete < and > mean <= and >=; blanks and
		// continuation lines anywhere dpkg allows them.
		{"a0 (<< 1), b0 (<= 1), c0 (= 1), d0 (>= 1), e0 (>> 1), f0 (< 1), g0 (> 1)", []OrGroup{
			{{Name: "a0", Op: OpLT, Version: "1"}}, {{Name: "b0", Op: OpLE, Version: "1"}},
			{{Name: "c0", Op: OpEQ, Version: "1"}}, {{Name: "d0", Op: OpGE, Version: "1"}},
			{{Name: "e0", Op: OpGT, Version: "1"}}, {{Name: "f0", Op: OpLE, Version: "1"}},
			{{Name: "g0", Op: OpGE, Version: "1"}},
		}, "a0 (<< 1), b0 (<= 1), c0 (= 1), d0 (>= 1), e0 (>> 1), f0 (<= 1), g0 (>= 1)"},
		{" foo\n (\t>=\n1.0 ) |\n bar ,\n baz(=2)", []OrGroup{
			{{Name: "foo", Op: OpGE, Version: "1.0"}, {Name: "bar"}},
			{{Name: "baz", Op: OpEQ, Version: "2"}},
		}, "foo (>= 1.0) | bar, baz (= 2)"},
		// A zero epoch is dropped as dpkg prints it, unless needed.
		{"aa (>= 0:1.0), bb (>= 0:1:2), cc (>= 1:0)", []OrGroup{
			{{Name: "aa", Op: OpGE, Version: "1.0"}},
			{{Name: "bb", Op: OpGE, Version: "0:1:2"}},
			{{Name: "cc", Op: OpGE, Version: "1:0"}},
		}, "aa (>= 1.0), bb (>= 0:1:2), cc (>= 1:0)"},
		// apt's test/libapt/parsedepends_test.cc input (arch qualifiers,
		// architecture lists, build profiles).
		{"debhelper:any (>= 5.0), libdb-dev:any, gettext:native (<= 0.12), " +
			"libcurl4-gnutls-dev:native | libcurl3-gnutls-dev (>> 7.15.5), docbook-xml, apt (>= 0.7.25), " +
			"not-for-me [ !amd64 ], only-for-me [ amd64 ], any-for-me [ any ], not-for-darwin [ !darwin-any ], " +
			"cpu-for-me [ any-amd64 ], os-for-me [ linux-any ], cpu-not-for-me [ any-armel ], os-not-for-me [ kfreebsd-any ], " +
			"not-in-stage1 <!stage1>, not-stage1-and-not-nodoc <!nodoc !stage1>, not-stage1-or-not-nodoc <!nodoc> <!stage1>, " +
			"unknown-profile <unknown stage1>, overlord-dev:any (= 7.15.3~) | overlord-dev:native (>> 7.15.5)",
			[]OrGroup{
				{{Name: "debhelper", ArchQual: "any", Op: OpGE, Version: "5.0"}},
				{{Name: "libdb-dev", ArchQual: "any"}},
				{{Name: "gettext", ArchQual: "native", Op: OpLE, Version: "0.12"}},
				{{Name: "libcurl4-gnutls-dev", ArchQual: "native"}, {Name: "libcurl3-gnutls-dev", Op: OpGT, Version: "7.15.5"}},
				{{Name: "docbook-xml"}},
				{{Name: "apt", Op: OpGE, Version: "0.7.25"}},
				{{Name: "not-for-me", Arches: []string{"!amd64"}}},
				{{Name: "only-for-me", Arches: []string{"amd64"}}},
				{{Name: "any-for-me", Arches: []string{"any"}}},
				{{Name: "not-for-darwin", Arches: []string{"!darwin-any"}}},
				{{Name: "cpu-for-me", Arches: []string{"any-amd64"}}},
				{{Name: "os-for-me", Arches: []string{"linux-any"}}},
				{{Name: "cpu-not-for-me", Arches: []string{"any-armel"}}},
				{{Name: "os-not-for-me", Arches: []string{"kfreebsd-any"}}},
				{{Name: "not-in-stage1", Profiles: [][]string{{"!stage1"}}}},
				{{Name: "not-stage1-and-not-nodoc", Profiles: [][]string{{"!nodoc", "!stage1"}}}},
				{{Name: "not-stage1-or-not-nodoc", Profiles: [][]string{{"!nodoc"}, {"!stage1"}}}},
				{{Name: "unknown-profile", Profiles: [][]string{{"unknown", "stage1"}}}},
				{{Name: "overlord-dev", ArchQual: "any", Op: OpEQ, Version: "7.15.3~"}, {Name: "overlord-dev", ArchQual: "native", Op: OpGT, Version: "7.15.5"}},
			},
			"debhelper:any (>= 5.0), libdb-dev:any, gettext:native (<= 0.12), " +
				"libcurl4-gnutls-dev:native | libcurl3-gnutls-dev (>> 7.15.5), docbook-xml, apt (>= 0.7.25), " +
				"not-for-me [!amd64], only-for-me [amd64], any-for-me [any], not-for-darwin [!darwin-any], " +
				"cpu-for-me [any-amd64], os-for-me [linux-any], cpu-not-for-me [any-armel], os-not-for-me [kfreebsd-any], " +
				"not-in-stage1 <!stage1>, not-stage1-and-not-nodoc <!nodoc !stage1>, not-stage1-or-not-nodoc <!nodoc> <!stage1>, " +
				"unknown-profile <unknown stage1>, overlord-dev:any (= 7.15.3~) | overlord-dev:native (>> 7.15.5)"},
		{"gcc:amd64 (>= 4)[linux-any kfreebsd-any]<!cross><pkg.foo.bar>", []OrGroup{
			{{Name: "gcc", ArchQual: "amd64", Op: OpGE, Version: "4", Arches: []string{"linux-any", "kfreebsd-any"}, Profiles: [][]string{{"!cross"}, {"pkg.foo.bar"}}}},
		}, "gcc:amd64 (>= 4) [linux-any kfreebsd-any] <!cross> <pkg.foo.bar>"},
	} {
		got, err := ParseRelations(tc.in)
		if err != nil {
			t.Errorf("ParseRelations(%q): %v", tc.in, err)
			continue
		}
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("ParseRelations(%q) (-want +got):\n%s", tc.in, d)
		}
		str := tc.str
		if str == "" {
			str = tc.in
		}
		if s := joinGroups(got); s != strings.TrimSpace(str) {
			t.Errorf("String of ParseRelations(%q) = %q, want %q", tc.in, s, str)
		}
	}
}

func TestParseRelationsErrors(t *testing.T) {
	for in, want := range map[string]string{
		"libc6 (>= 2.38":         `relation "libc6 (>= 2.38": version not terminated by ')'`,
		"libc6 (>= 2.38(":        "version not terminated",
		"libc6 (2.38)":           "missing or bad version operator",
		"libc6 (<> 2.38)":        "missing or bad version operator",
		"libc6 (>< 2.38)":        "missing or bad version operator",
		"libc6 (== 2.38)":        "version not terminated",
		"libc6 (==2.38)":         `version "=2.38": version number does not start with digit`,
		"libc6 (>= 2 .38)":       "version not terminated",
		"libc6 (>= )":            "version string is empty",
		"libc6 (>= x1)":          `version "x1"`,
		"aa, libc6 (>= 1.0-)":    `relation "libc6 (>= 1.0-)": version "1.0-": revision number is empty`,
		"libc6,":                 "missing package name",
		"libc6,, foo":            "missing package name",
		", libc6":                "missing package name",
		"libc6 | | foo":          "missing package name",
		"libc6 |":                "missing package name",
		"Libc6":                  `package name "Libc6" does not start with a lower-case letter`,
		"lib_c6":                 `contains '_'`,
		"l":                      "shorter than two",
		"libc6:":                 "missing architecture name",
		"libc6:-x":               "missing architecture name",
		"libc6:am_d64":           `unexpected '_'`,
		"libc6 foo":              `unexpected 'f'`,
		"libc6 (>= 1) foo":       `unexpected 'f'`,
		"libc6 )":                `unexpected ')'`,
		"libc6 [":                `architecture list: missing ']'`,
		"libc6 []":               "architecture list: empty list",
		"libc6 [amd64,i386]":     `"amd64,i386" contains ','`,
		"libc6 [!]":              `"!" does not start`,
		"libc6 <stage1":          `restriction list: missing '>'`,
		"libc6 <>":               "restriction list: empty list",
		"libc6 <stage1 (x)>":     `"(x)" contains '('`,
		"libc6 [amd64] [i386]":   `unexpected '['`,
		"libc6 <a> [amd64]":      `unexpected '['`,
		"foo (>= 1) (<< 2)":      `unexpected '('`,
		"foo:any:any":            `unexpected ':'`,
		strings.Repeat("X", 200): "…",
	} {
		_, err := ParseRelations(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseRelations(%q) = %v, want an error containing %q", in, err, want)
		}
	}
}

func TestParseDeps(t *testing.T) {
	got, err := ParseDeps("libssl-dev (<< 3.0.13), python3-openssl:any\n , libfoo [amd64]")
	if err != nil {
		t.Fatal(err)
	}
	want := []Dep{{Name: "libssl-dev", Op: OpLT, Version: "3.0.13"}, {Name: "python3-openssl", ArchQual: "any"}, {Name: "libfoo", Arches: []string{"amd64"}}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("ParseDeps (-want +got):\n%s", d)
	}
	if _, err := ParseDeps("aa, bb | cc"); err == nil || !strings.Contains(err.Error(), `relation "bb | cc": alternatives ('|') not allowed`) {
		t.Errorf("alternatives: %v", err)
	}
	if got, err := ParseDeps(""); got != nil || err != nil {
		t.Errorf("empty: %v, %v", got, err)
	}
}

func TestParseProvides(t *testing.T) {
	got, err := ParseProvides("awk, mail-transport-agent,\n libfoo-abi (= 1.2-3), bar (= 0:1)")
	if err != nil {
		t.Fatal(err)
	}
	want := []Provide{{Name: "awk"}, {Name: "mail-transport-agent"}, {Name: "libfoo-abi", Version: "1.2-3"}, {Name: "bar", Version: "1"}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("ParseProvides (-want +got):\n%s", d)
	}
	for in, msg := range map[string]string{
		"foo (>= 1)":  `provide "foo (>= 1)": only exact versions`,
		"foo (<< 1)":  "only exact versions",
		"foo:any":     `provide "foo:any": architecture qualifier not allowed`,
		"foo [amd64]": "architecture and restriction lists not allowed",
		"foo <!x>":    "architecture and restriction lists not allowed",
		"foo | bar":   "alternatives",
		"foo (= x)":   `version "x"`,
	} {
		if _, err := ParseProvides(in); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("ParseProvides(%q) = %v, want an error containing %q", in, err, msg)
		}
	}
}

func TestOpString(t *testing.T) {
	var got []string
	for op := OpAny; op <= OpGT+1; op++ {
		got = append(got, op.String())
	}
	if d := cmp.Diff([]string{"", "<<", "<=", "=", ">=", ">>", "Op(6)"}, got); d != "" {
		t.Errorf("Op.String (-want +got):\n%s", d)
	}
}

func joinGroups(g []OrGroup) string {
	s := make([]string, len(g))
	for i, grp := range g {
		s[i] = grp.String()
	}
	return strings.Join(s, ", ")
}

func BenchmarkParseRelations(b *testing.B) {
	const in = "libc6 (>= 2.38), libssl3t64 (>= 3.0.13-0ubuntu3.4), debconf (>= 0.5) | debconf-2.0, zlib1g (>= 1:1.1.4)"
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseRelations(in); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzParseRelations(f *testing.F) {
	f.Add("libc6 (>= 2.38), debconf (>= 0.5) | debconf-2.0")
	f.Add("gcc:amd64 (>= 4)[linux-any !hurd-any]<!cross> <pkg.x>")
	f.Add(" a0\n (< 0:1) |\tb0 (> 1:2-3)")
	f.Add("foo (= 1.0~rc1+dfsg-1ubuntu0.1)")
	f.Fuzz(func(t *testing.T, s string) {
		g, err := ParseRelations(s)
		if err != nil {
			return
		}
		canon := joinGroups(g)
		again, err := ParseRelations(canon)
		if err != nil {
			t.Fatalf("canonical form %q of %q does not parse: %v", canon, s, err)
		}
		if d := cmp.Diff(g, again); d != "" {
			t.Fatalf("%q re-parses differently from %q (-first +again):\n%s", canon, s, d)
		}
		if deps, err := ParseDeps(s); err == nil {
			for i, d := range deps {
				if len(g[i]) != 1 || !cmp.Equal(g[i][0], d) {
					t.Fatalf("ParseDeps(%q) and ParseRelations differ at %d", s, i)
				}
			}
		}
	})
}
