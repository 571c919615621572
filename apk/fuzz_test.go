package apk

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rootfsd/rootfsd/apk/apktest"
)

// fuzzFixture returns up to n records of a fixture index as seed text, or
// nothing when the fixtures are not there (fuzzing needs no fixtures).
func fuzzFixtureRecords(rel string, n int) []string {
	dir := apktest.Dir()
	if dir == "" {
		return nil
	}
	data, err := os.ReadFile(filepath.Join(dir, rel, "APKINDEX.tar.gz"))
	if err != nil {
		return nil
	}
	idx, err := ReadIndex(data, AllKeys(), Limits{})
	if err != nil {
		return nil
	}
	var out []string
	for i := 0; i < len(idx.Packages) && i < n; i++ {
		var b strings.Builder
		idx.Packages[i].AppendIndexHeader(&b)
		out = append(out, b.String())
	}
	return out
}

// Parsing never panics, and what parses renders back to the same records.
func FuzzParseIndex(f *testing.F) {
	f.Add([]byte(tinyIndex))
	f.Add([]byte("C:Q1AYNx2pLOAHRYZQgv3nM8TNtvRWY=\nP:a\nV:1.0-r0\nD:so:libc.so=1 !b c>=2 d~3 e<~4 f@edge\np:cmd:a=1.0-r0 virt\ni:x y=1\nk:10\nz:extra\n\nC:Q1AYNx2pLOAHRYZQgv3nM8TNtvRWY=\nP:b\nV:2\n"))
	f.Add([]byte("P:a\n\n\n"))
	f.Add([]byte("C:bad\nP:a\nV:1\n"))
	for _, rec := range fuzzFixtureRecords("v3.19.1-iso/apks/x86_64", 20) {
		f.Add([]byte(rec))
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		pkgs, err := ParseIndex(text, Limits{Records: 1000, LineLength: 1 << 16})
		if err != nil {
			return
		}
		var b strings.Builder
		for i := range pkgs {
			pkgs[i].AppendIndexHeader(&b)
			b.WriteByte('\n')
		}
		again, err := ParseIndex([]byte(b.String()), Limits{})
		if err != nil {
			t.Fatalf("rendered index does not parse: %v\n%s", err, b.String())
		}
		for i := range pkgs {
			pkgs[i].Extra, pkgs[i].Replaces, pkgs[i].ReplacesPriority = nil, nil, 0
		}
		if diff := cmp.Diff(pkgs, again); diff != "" {
			t.Fatalf("round trip (-parsed +reparsed):\n%s", diff)
		}
	})
}

func FuzzParsePKGINFO(f *testing.F) {
	f.Add([]byte("pkgname = hello\npkgver = 1.0-r0\n# comment\ndepend = so:libc.musl-x86_64.so.1\ndepend = b>=1\nprovides = cmd:hello=1.0-r0\nreplaces = old\nreplaces_priority = 10\ninstall_if = x y\ntriggers = /usr/bin /usr/lib/*\ndatahash = 382c75e2d1a2e2b9d281e879b763b3b363508400d7cc796d9448c46a7b6ba342\nsize = 4096\nbuilddate = 1699383189\nfoo = bar\n"))
	f.Add([]byte("pkgname = x\n"))
	f.Add([]byte("pkgname=x\npkgver = 1\n"))
	f.Add([]byte("pkgname = x\npkgver = 1\nsize = -1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := ParsePKGINFO(data, Limits{})
		if err != nil {
			return
		}
		if info.Name == "" || info.Version == "" {
			t.Fatalf("parsed without name or version: %+v", info)
		}
		if info.DataHash != "" && len(info.DataHash) != 64 {
			t.Fatalf("datahash %q", info.DataHash)
		}
		for _, d := range append(append(info.Depends, info.Provides...), info.InstallIf...) {
			if d.Name == "" {
				t.Fatalf("empty dependency name in %+v", info)
			}
		}
	})
}

// CompareVersions is a total order: reflexive and antisymmetric on any
// input, transitive on well-formed versions.
func FuzzCompareVersions(f *testing.F) {
	for _, s := range [][3]string{
		{"1.0", "1.0-r1", "1.0_p1"}, {"1.2.4_git20230717-r4", "1.2.4", "1.2.4_rc1"},
		{"0.1_alpha", "0.1_beta2", "0.1_pre"}, {"1.01", "1.001", "1.1"}, {"2.1_p20230410-r3", "2.1", "2.1a"},
		{"20240226-r0", "20230506-r0", "20240226"}, {"1.0bc", "1.0", "1"}, {"", "a", "_p"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, a, b, c string) {
		if CompareVersions(a, a) != 0 {
			t.Fatalf("%q != itself", a)
		}
		ab, ba := CompareVersions(a, b), CompareVersions(b, a)
		if ab != -ba || ab < -1 || ab > 1 {
			t.Fatalf("cmp(%q,%q)=%d but cmp(%q,%q)=%d", a, b, ab, b, a, ba)
		}
		if !ValidVersion(a) || !ValidVersion(b) || !ValidVersion(c) {
			return
		}
		bc, ac := CompareVersions(b, c), CompareVersions(a, c)
		if ab <= 0 && bc <= 0 && ac > 0 {
			t.Fatalf("not transitive: %q <= %q <= %q but %q > %q", a, b, c, a, c)
		}
		if ab == 0 && bc == 0 && ac != 0 {
			t.Fatalf("equality not transitive: %q = %q = %q but cmp = %d", a, b, c, ac)
		}
	})
}

// A dependency renders back to a token that parses to the same dependency.
func FuzzParseDep(f *testing.F) {
	for _, s := range []string{"so:libc.musl-x86_64.so.1", "busybox=1.36.1-r15", "!vlan", "a>=1.0", "b<~2", "c@edge>1",
		"d><Q1AYNx2pLOAHRYZQgv3nM8TNtvRWY=", "/bin/sh", "e~1.2", "=1", "x@", "y=="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDep(s)
		if err != nil {
			return
		}
		again, err := ParseDep(d.String())
		if err != nil {
			t.Fatalf("%q rendered as %q, which does not parse: %v", s, d.String(), err)
		}
		if again != d {
			t.Fatalf("%q: %+v rendered %q parses to %+v", s, d, d.String(), again)
		}
	})
}
