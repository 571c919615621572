package sbom

import (
	"strings"
	"testing"
)

func TestNormalizeLicence(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" = not machine-readable
	}{
		{"MIT", "MIT"},
		{"mit", "MIT"},
		{"GPL-2.0-only", "GPL-2.0-only"},
		{"GPL-2.0+", "GPL-2.0+"},
		{"GPL-2.0-or-later", "GPL-2.0-or-later"},
		{"MIT AND BSD-2-Clause AND GPL-2.0-or-later", "MIT AND BSD-2-Clause AND GPL-2.0-or-later"},
		{"MIT and BSD-3-Clause", "MIT AND BSD-3-Clause"},
		{"MIT OR Apache-2.0", "MIT OR Apache-2.0"},
		{"(MIT OR Apache-2.0) AND Zlib", "(MIT OR Apache-2.0) AND Zlib"},
		{"((MIT))", "MIT"},
		{"MIT OR (Apache-2.0 AND Zlib)", "MIT OR Apache-2.0 AND Zlib"},
		{"GPL-2.0-only WITH Linux-syscall-note", "GPL-2.0-only WITH Linux-syscall-note"},
		{"gpl-2.0-only with linux-syscall-note OR MIT", "GPL-2.0-only WITH Linux-syscall-note OR MIT"},
		{"GPL-2.0-or-later WITH GCC-exception-2.0 AND LGPL-2.1-or-later", "GPL-2.0-or-later WITH GCC-exception-2.0 AND LGPL-2.1-or-later"},
		{"  MIT\tAND\nISC  ", "MIT AND ISC"},
		// Not machine-readable.
		{"", ""},
		{"custom", ""},
		{"GPL2+", ""},
		{"custom:bsd", ""},
		{"LicenseRef-foo", ""},
		{"MIT AND", ""},
		{"AND MIT", ""},
		{"MIT MIT", ""},
		{"(MIT", ""},
		{"MIT)", ""},
		{"()", ""},
		{"MIT WITH", ""},
		{"(MIT OR ISC) WITH Linux-syscall-note", ""},
		{"MIT WITH Linux-syscall-note+", ""},
		{"MIT+ +", ""},
		{"Public Domain", ""},
		{strings.Repeat("(", 40) + "MIT" + strings.Repeat(")", 40), ""},
		{strings.Repeat("MIT AND ", 200) + "MIT", ""},
	}
	for _, tc := range tests {
		got, ok := NormalizeLicence(tc.in)
		if ok != (tc.want != "") || got != tc.want {
			t.Errorf("NormalizeLicence(%q) = %q, %v; want %q", tc.in, got, ok, tc.want)
		}
	}
}

func TestLicenceListLoaded(t *testing.T) {
	ids := licenceIDs()
	if len(ids) < 700 {
		t.Fatalf("only %d SPDX identifiers loaded", len(ids))
	}
	for _, id := range []string{"0BSD", "Apache-2.0", "GPL-3.0-or-later", "Linux-syscall-note", "OpenSSL"} {
		if ids[strings.ToLower(id)] != id {
			t.Errorf("identifier %s missing or misspelt: %q", id, ids[strings.ToLower(id)])
		}
	}
}

// FuzzNormalizeLicence checks that any input is either rejected or
// normalised to a fixed point that contains no control characters.
func FuzzNormalizeLicence(f *testing.F) {
	for _, s := range []string{
		"MIT", "MIT AND BSD-2-Clause AND GPL-2.0-or-later", "(MIT OR Apache-2.0) AND Zlib",
		"GPL-2.0-only WITH Linux-syscall-note", "custom", "((((", "MIT WITH", "GPL-2.0+ OR mit",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := NormalizeLicence(s)
		if !ok {
			if got != "" {
				t.Fatalf("rejected %q but returned %q", s, got)
			}
			return
		}
		again, ok := NormalizeLicence(got)
		if !ok || again != got {
			t.Fatalf("not a fixed point: %q -> %q -> %q (%v)", s, got, again, ok)
		}
		if strings.ContainsAny(got, "\x00\n\t\r") {
			t.Fatalf("control characters in %q", got)
		}
	})
}
