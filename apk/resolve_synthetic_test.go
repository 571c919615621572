package apk

import (
	"crypto/sha1"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rootfsd/rootfsd/repo"
)

// synthIndex builds an index from compact records: "name-version" followed
// by field lines such as "D:musl" or "p:so:libfoo.so.1=1".
func synthIndex(t *testing.T, records ...string) *Index {
	t.Helper()
	var b strings.Builder
	for _, rec := range records {
		lines := strings.Split(rec, "\n")
		id := lines[0]
		name, version := nameOf(id), id[len(nameOf(id))+1:]
		sum := sha1.Sum([]byte(id))
		fmt.Fprintf(&b, "C:%s\nP:%s\nV:%s\nA:x86_64\nS:1\nI:1\n", FormatQ1(sum[:]), name, version)
		for _, l := range lines[1:] {
			b.WriteString(strings.TrimSpace(l) + "\n")
		}
		b.WriteString("\n")
	}
	pkgs, err := ParseIndex([]byte(b.String()), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return &Index{Packages: pkgs}
}

func synthRepo(t *testing.T, name, tag string, records ...string) *Repository {
	return &Repository{URL: "http://test/" + name, Arch: "x86_64", Name: name, Tag: tag, Index: synthIndex(t, records...)}
}

func TestResolveSynthetic(t *testing.T) {
	main := synthRepo(t, "main", "",
		"foo-3-r0\nD:bar",
		"bar-1-r0",
		"c-1-r0", "c-3-r0",
		"x-1-r0\nD:c", "y-1-r0\nD:c<2",
		"a-1-r0\nD:b2 !c2", "b2-1-r0\nD:virt", "c2-1-r0\np:virt\nk:10", "d2-1-r0\np:virt\nk:5",
		"musl-utils-1.2.5-r0\np:libc-utils=1.2.5-r0 cmd:ldd=1.2.5-r0",
		"i1-1-r0", "i2-1-r0\ni:i1", "i3-1-r0\ni:i2", "i4-1-r0\ni:i1 i3", "i5-1-r0\ni:i1 !i3", "i6-1-r0\ni:i1=2",
		"v1-1-r0\np:vv", "v2-1-r0\np:vv",
		"fz-3.6.9-r0", "fz-3.7.1-r0",
	)
	edge := synthRepo(t, "edge", "edge",
		"foo-2-r0\nD:baz",
		"baz-1-r0",
		"qux-1-r0",
	)
	repos := []*Repository{main, edge}
	for _, tc := range []struct {
		world []string
		want  []string
	}{
		{[]string{"foo"}, []string{"bar-1-r0", "foo-3-r0"}},
		// An explicit tag prefers its repository over a higher version and
		// lets the dependencies come from it.
		{[]string{"foo@edge"}, []string{"baz-1-r0", "foo-2-r0"}},
		// The later constraint c<2 is learnt and the highest version given up.
		{[]string{"x", "y"}, []string{"c-1-r0", "x-1-r0", "y-1-r0"}},
		// a conflicts with c2, so virt goes to the lower priority provider.
		{[]string{"a"}, []string{"a-1-r0", "b2-1-r0", "d2-1-r0"}},
		// A world entry satisfied by a provide (v3.20's libc-utils).
		{[]string{"libc-utils"}, []string{"musl-utils-1.2.5-r0"}},
		{[]string{"cmd:ldd"}, []string{"musl-utils-1.2.5-r0"}},
		// install_if to a fixed point, conflicts and versions honoured.
		{[]string{"i1"}, []string{"i1-1-r0", "i2-1-r0", "i3-1-r0", "i4-1-r0"}},
		// Fuzzy versions.
		{[]string{"fz~3.6"}, []string{"fz-3.6.9-r0"}},
		{[]string{"fz>~3.6"}, []string{"fz-3.7.1-r0"}},
		{[]string{"fz<3.7"}, []string{"fz-3.6.9-r0"}},
		// A virtual name without priority is fine once a provider is named.
		{[]string{"v2", "vv"}, []string{"v2-1-r0"}},
	} {
		got := resolveIDs(t, repos, tc.world...)
		if diff := cmp.Diff(tc.want, got, cmpSortStrings); diff != "" {
			t.Errorf("%v (-want +got):\n%s", tc.world, diff)
		}
	}

	r, err := NewResolver(repos)
	if err != nil {
		t.Fatal(err)
	}
	sol, err := r.Resolve(goals("foo@edge"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range sol.Packages {
		if p.Repository != edge {
			t.Errorf("%s from %s, want edge", p.Package.ID(), p.Repository.Name)
		}
	}

	for _, tc := range []struct {
		world []string
		want  string // in the chain
	}{
		{[]string{"qux"}, "qux-1-r0 is only in repositories tagged @edge: ask for qux@edge"},
		{[]string{"vv"}, "v1-1-r0 provides vv without a provider priority: ask for v1 by name"},
		{[]string{"y", "c=3-r0"}, "but c is c-3-r0, selected because:\n    requested c=3-r0"},
	} {
		_, err := r.Resolve(goals(tc.world...))
		var unsat *repo.UnsatisfiableError
		if !errors.As(err, &unsat) {
			t.Errorf("%v: got %v, want UnsatisfiableError", tc.world, err)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error lacks %q:\n%v", tc.world, tc.want, err)
		}
	}
}

func TestResolveChecksumPin(t *testing.T) {
	main := synthRepo(t, "main", "", "c-1-r0", "c-3-r0")
	r, err := NewResolver([]*Repository{main})
	if err != nil {
		t.Fatal(err)
	}
	old := main.Index.Packages[0]
	sol, err := r.Resolve([]Goal{{Dep: Dep{Name: "c", Op: OpChecksum, Version: old.Checksum}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := sol.Packages[0].Package.ID(); got != "c-1-r0" {
		t.Errorf("checksum pin chose %s", got)
	}
}

func TestResolveDependencyCycle(t *testing.T) {
	main := synthRepo(t, "main", "", "p-1-r0\nD:q", "q-1-r0\nD:p", "top-1-r0\nD:p")
	got := resolveIDs(t, []*Repository{main}, "top")
	if diff := cmp.Diff([]string{"q-1-r0", "p-1-r0", "top-1-r0"}, got); diff != "" {
		t.Errorf("cycle order (-want +got):\n%s", diff)
	}
}
