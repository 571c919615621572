package deb

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rootfsd/rootfsd/repo"
)

func TestCheckPlanned(t *testing.T) {
	sum := strings.Repeat("a", 64)
	for _, tc := range []struct {
		name, filename string
		size           int64
		sha            string
		ok             bool
	}{
		{"good", "pool/main/h/hello/hello_1_amd64.deb", 10, sum, true},
		{"largest", "pool/x.deb", MaxPackageSize, sum, true},
		{"dotdot", "pool/../../etc/shadow", 10, sum, false},
		{"absolute", "/etc/shadow", 10, sum, false},
		{"empty", "", 10, sum, false},
		{"zero size", "pool/x.deb", 0, sum, false},
		{"huge size", "pool/x.deb", MaxPackageSize + 1, sum, false},
		{"upper-case digest", "pool/x.deb", 10, strings.ToUpper(sum), false},
		{"short digest", "pool/x.deb", 10, sum[:63], false},
	} {
		err := checkPlanned("p", "1", tc.filename, tc.size, tc.sha)
		if tc.ok != (err == nil) || (err != nil && !errors.Is(err, ErrPlannedPackage)) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

func TestReleaseOnly(t *testing.T) {
	rel, extra := &IndexFile{Suite: "bookworm"}, &IndexFile{Suite: "stable", Extra: true}
	c := func(v string, f *IndexFile) *Candidate { return &Candidate{Package: &Package{Version: v}, File: f} }
	suites := func(cs []*Candidate) (out []string) {
		for _, c := range cs {
			out = append(out, c.Version+"@"+c.File.Suite)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		in   []*Candidate
		want []string
	}{
		{"release and extra", []*Candidate{c("99", extra), c("1", rel)}, []string{"1@bookworm"}},
		{"extra only", []*Candidate{c("2", extra)}, []string{"2@stable"}},
		{"release only", []*Candidate{c("1", rel)}, []string{"1@bookworm"}},
	} {
		if diff := cmp.Diff(tc.want, suites(releaseOnly(tc.in))); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
}

func TestCheckLockDates(t *testing.T) {
	idx := func(date string) []repo.Index { return []repo.Index{{Name: "bookworm", URL: "u", Date: date}} }
	for _, tc := range []struct {
		name         string
		locked, now  []repo.Index
		wantRollback bool
	}{
		{"same", idx("2026-01-11T00:00:00Z"), idx("2026-01-11T00:00:00Z"), false},
		{"mirror moved on", idx("2026-01-11T00:00:00Z"), idx("2026-02-01T00:00:00Z"), false},
		{"mirror older than the lock", idx("2026-01-11T00:00:00Z"), idx("2026-01-02T00:00:00Z"), true},
		{"another mirror", idx("2026-01-11T00:00:00Z"), []repo.Index{{Name: "bookworm", URL: "v", Date: "2026-01-02T00:00:00Z"}}, false},
		{"lock without dates", idx(""), idx("2026-01-02T00:00:00Z"), false},
	} {
		err := checkLockDates(tc.locked, tc.now)
		if errors.Is(err, ErrRollback) != tc.wantRollback {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}
