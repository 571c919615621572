package deb

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rootfsd/rootfsd/repo"
)

// stanza builds a minimal Packages stanza; extra holds further fields.
func stanza(name, version string, extra ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Package: %s\nVersion: %s\nArchitecture: amd64\n", name, version)
	for _, e := range extra {
		b.WriteString(e + "\n")
	}
	fmt.Fprintf(&b, "Filename: pool/main/%s/%s_%s_amd64.deb\nSize: 100\nSHA256: %s\n", name[:1], name, version, strings.Repeat("a", 64))
	return b.String()
}

func universe(t *testing.T, files ...string) *Universe {
	t.Helper()
	var fs []*IndexFile
	for i, f := range files {
		suite := "release"
		if i > 0 {
			suite = fmt.Sprintf("updates%d", i)
		}
		fs = append(fs, &IndexFile{Suite: suite, Component: "main", Data: []byte(f), Release: i == 0})
	}
	u, err := NewUniverse("amd64", fs)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func join(stanzas ...string) string { return strings.Join(stanzas, "\n") }

func resolveNames(t *testing.T, u *Universe, sel Selection) []string {
	t.Helper()
	res, err := u.Resolve(sel)
	if err != nil {
		t.Fatalf("resolve %v: %v", sel.Packages, err)
	}
	var out []string
	for _, r := range res {
		out = append(out, r.Name+"="+r.Version)
	}
	sort.Strings(out)
	return out
}

func TestResolveRelations(t *testing.T) {
	idx := join(
		stanza("app", "1.0", "Depends: libc6 (>= 2.30), awk, mta | mail-transport-agent", "Pre-Depends: dpkg", "Recommends: docs"),
		stanza("libc6", "2.36", "Priority: required"),
		stanza("libc6", "2.20"),
		stanza("dpkg", "1.21", "Essential: yes", "Priority: required"),
		stanza("mawk", "1.3", "Provides: awk", "Priority: required"),
		stanza("gawk", "5.0", "Provides: awk", "Priority: optional"),
		stanza("postfix", "3.0", "Provides: mail-transport-agent", "Priority: optional"),
		stanza("exim4", "4.9", "Provides: mail-transport-agent", "Priority: standard"),
		stanza("docs", "1"),
		stanza("usrmerge", "37", "Depends: perl"),
		stanza("perl", "5.36"),
		stanza("usr-is-merged", "37"),
		stanza("helper", "1", "Depends: usrmerge | usr-is-merged"),
		stanza("wants-merged", "1", "Depends: usr-is-merged, helper"),
		stanza("vprov", "1", "Provides: libfoo (= 2.0)"),
		stanza("needs-foo", "1", "Depends: libfoo (>= 1.5)"),
		stanza("needs-foo3", "1", "Depends: libfoo (>= 3)"),
		stanza("py", "3.12", "Multi-Arch: allowed"),
		stanza("needs-py", "1", "Depends: py:any"),
	)
	u := universe(t, idx, stanza("libc6", "2.36-1"))
	cases := []struct {
		name string
		sel  Selection
		want []string
	}{
		{"versions, alternatives, virtuals by priority, pre-depends, no recommends",
			Selection{Packages: []string{"app"}},
			[]string{"app=1.0", "dpkg=1.21", "exim4=4.9", "libc6=2.36-1", "mawk=1.3"}},
		{"recommends", Selection{Packages: []string{"app"}, Recommends: true},
			[]string{"app=1.0", "docs=1", "dpkg=1.21", "exim4=4.9", "libc6=2.36-1", "mawk=1.3"}},
		{"first alternative", Selection{Packages: []string{"helper"}}, []string{"helper=1", "perl=5.36", "usrmerge=37"}},
		{"alternative already marked wins", Selection{Packages: []string{"wants-merged"}}, []string{"helper=1", "usr-is-merged=37", "wants-merged=1"}},
		{"versioned provides", Selection{Packages: []string{"needs-foo"}}, []string{"needs-foo=1", "vprov=1"}},
		{"arch qualifier any", Selection{Packages: []string{"needs-py"}}, []string{"needs-py=1", "py=3.12"}},
		{"pin by version", Selection{Packages: []string{"libc6=2.20"}}, []string{"libc6=2.20"}},
		{"pin by suite", Selection{Packages: []string{"libc6/release"}}, []string{"libc6=2.36"}},
		{"essential", Selection{Essential: true}, []string{"dpkg=1.21"}},
		{"minbase adds required", Selection{Essential: true, Required: true}, []string{"dpkg=1.21", "libc6=2.36-1", "mawk=1.3"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if d := cmp.Diff(tc.want, resolveNames(t, u, tc.sel)); d != "" {
				t.Fatalf("(-want +got)\n%s", d)
			}
		})
	}
}

func TestResolveErrors(t *testing.T) {
	idx := join(
		stanza("app", "1", "Depends: lib (>= 2)"),
		stanza("lib", "1"),
		stanza("top", "1", "Depends: app"),
		stanza("c1", "1", "Conflicts: c2"),
		stanza("c2", "1"),
		stanza("virt-user", "1", "Provides: virtual-thing"),
		stanza("needs-foo3", "1", "Depends: libfoo (>= 3)"),
		stanza("vprov", "1", "Provides: libfoo (= 2.0)"),
	)
	u := universe(t, idx)
	var unsat *repo.UnsatisfiableError
	_, err := u.Resolve(Selection{Packages: []string{"top"}})
	if !errors.As(err, &unsat) {
		t.Fatalf("top: want UnsatisfiableError, got %v", err)
	}
	if !strings.Contains(err.Error(), "app 1 Depends lib (>= 2)") || !strings.Contains(err.Error(), "lib has only 1") {
		t.Errorf("chain does not explain: %v", err)
	}
	if _, err := u.Resolve(Selection{Packages: []string{"needs-foo3"}}); !errors.As(err, &unsat) {
		t.Errorf("unversioned-enough provide accepted: %v", err)
	}
	if _, err := u.Resolve(Selection{Packages: []string{"c1", "c2"}}); !errors.As(err, &unsat) || !strings.Contains(err.Error(), "Conflicts") {
		t.Errorf("conflict not reported: %v", err)
	}
	var unknown *repo.UnknownPackageError
	_, err = u.Resolve(Selection{Packages: []string{"ap"}, Where: "test main"})
	if !errors.As(err, &unknown) || !strings.Contains(err.Error(), "did you mean app") {
		t.Errorf("unknown name: %v", err)
	}
	if _, err := u.Resolve(Selection{Packages: []string{"virtual-thing"}}); err == nil || !strings.Contains(err.Error(), "virt-user") {
		t.Errorf("virtual request should name providers: %v", err)
	}
	if _, err := u.Resolve(Selection{Packages: []string{"lib=9"}}); err == nil || !strings.Contains(err.Error(), "available: 1") {
		t.Errorf("missing pinned version: %v", err)
	}
	if _, err := u.Resolve(Selection{Packages: []string{"Bad Name"}}); err == nil {
		t.Error("bad name accepted")
	}
}

func TestScanRoundTrip(t *testing.T) {
	data := []byte(join(stanza("b", "1", "Provides: x, y (= 2),\n z", "Essential: yes"), stanza("a", "2", "Priority: required", "Provides: x"),
		stanza("b", "3"), stanza("c", "1", "Provides: y")))
	s, err := scanPackages(data)
	if err != nil {
		t.Fatal(err)
	}
	var provs []string
	for i := range s.np {
		p := s.provide(i)
		provs = append(provs, fmt.Sprintf("%s->%d", p.name, p.entry))
	}
	if d := cmp.Diff([]string{"x->0", "y->0", "z->0", "x->1", "y->3"}, provs); d != "" {
		t.Errorf("provides (-want +got)\n%s", d)
	}
	if s.flags(0)&flagEssential == 0 || s.flags(1)&flagRequired == 0 || s.flags(2) != 0 {
		t.Errorf("flags %d %d %d", s.flags(0), s.flags(1), s.flags(2))
	}
	if e := s.entry(1); e.name != "a" || string(data[e.off:e.off+e.len]) != strings.TrimRight(stanza("a", "2", "Priority: required", "Provides: x"), "\n") {
		t.Errorf("entry 1: %+v", e)
	}
	// Lookups give every match in file order.
	lookups := map[string][2][]uint32{"a": {{1}, nil}, "b": {{0, 2}, nil}, "x": {nil, {0, 1}}, "y": {nil, {0, 3}}, "z": {nil, {0}}, "nothing": {}}
	for name, want := range lookups {
		if got := s.named(name); !slices.Equal(got, want[0]) {
			t.Errorf("named(%s) = %v, want %v", name, got, want[0])
		}
		if got := s.providing(name); !slices.Equal(got, want[1]) {
			t.Errorf("providing(%s) = %v, want %v", name, got, want[1])
		}
	}
	back, err := unmarshalScan(bytes.Clone(s.marshal()), len(data))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back.marshal(), s.marshal()) || back.n != 4 || back.np != 5 || back.nb != 1 {
		t.Errorf("round trip: %d entries, %d provides, %d blocks", back.n, back.np, back.nb)
	}
	if _, err := unmarshalScan(s.marshal(), 10); err == nil {
		t.Error("offsets beyond the data accepted")
	}
	// A name order that is not one is refused.
	bad := bytes.Clone(s.marshal())
	at := scanHeader + s.n*entrySize + s.np*provSize
	copy(bad[at:], bad[at+4:at+8]) // the first two entries of the name order the same
	if _, err := unmarshalScan(bad, len(data)); err == nil {
		t.Error("a broken name order accepted")
	}
}

func FuzzUnmarshalScan(f *testing.F) {
	data := []byte(join(stanza("a", "1", "Provides: x"), stanza("b", "2")))
	s, _ := scanPackages(data)
	f.Add(s.marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := unmarshalScan(b, len(data))
		if err != nil {
			return
		}
		for i := range s.n {
			e := s.entry(i)
			_ = data[e.off : e.off+e.len]
			if !slices.Contains(s.named(e.name), uint32(i)) {
				t.Fatalf("entry %d (%q) not found by its name", i, e.name)
			}
		}
		for i := range s.np {
			p := s.provide(i)
			if !slices.Contains(s.providing(p.name), p.entry) {
				t.Fatalf("provide %d (%q) not found by its name", i, p.name)
			}
		}
	})
}

func FuzzScanPackages(f *testing.F) {
	f.Add([]byte(join(stanza("a", "1", "Provides: x,\n y"), stanza("b", "2"))))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := scanPackages(b)
		if err != nil {
			return
		}
		for i := range s.n {
			if e := s.entry(i); int(e.off+e.len) > len(b) {
				t.Fatalf("entry %q beyond data", e.name)
			}
		}
	})
}

// TestIndexBlocks: a file whose scan is cached is checked a block at a
// time as stanzas are read: blocks the resolve never reads are never
// hashed, and a changed block is an error reported to the cache.
func TestIndexBlocks(t *testing.T) {
	var stanzas []string
	for i := range 200 {
		stanzas = append(stanzas, stanza(fmt.Sprintf("pkg%03d", i), "1.0", "Description: "+strings.Repeat("x", 300)))
	}
	data := []byte(join(stanzas...))
	s, err := scanPackages(data)
	if err != nil {
		t.Fatal(err)
	}
	if s.nb < 4 {
		t.Fatalf("%d bytes in %d blocks: the test wants several", len(data), s.nb)
	}
	damaged := bytes.Clone(data)
	last := s.entry(s.n - 1)
	damaged[last.off+10] ^= 1 // inside pkg199's stanza, in the last block
	reported := 0
	f := &IndexFile{Suite: "release", Component: "main", Data: damaged, Release: true, scan: s, lazy: true,
		onCorrupt: func() error { reported++; return nil }}
	u, err := NewUniverse("amd64", []*IndexFile{f})
	if err != nil {
		t.Fatal(err)
	}
	if got := resolveNames(t, u, Selection{Packages: []string{"pkg000"}}); !slices.Equal(got, []string{"pkg000=1.0"}) {
		t.Errorf("resolve pkg000: %v", got)
	}
	checked := 0
	for _, ok := range f.blockOK {
		if ok {
			checked++
		}
	}
	if checked != 1 {
		t.Errorf("%d of %d blocks hashed for one stanza, want 1", checked, s.nb)
	}
	if _, err := u.Resolve(Selection{Packages: []string{"pkg199"}}); err == nil || !strings.Contains(err.Error(), "does not match its digest") || reported != 1 {
		t.Errorf("a stanza in a changed block: %v (reported %d times)", err, reported)
	}
}
