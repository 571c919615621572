package apk

import (
	"errors"
	"testing"
	"time"

	"github.com/rootfsd/rootfsd/repo/repotest"
)

func TestCheckRollback(t *testing.T) {
	c := repotest.NewMemCache()
	day := func(d int) *Index { return &Index{Date: time.Date(2026, 1, d, 0, 0, 0, 0, time.UTC)} }
	for _, tc := range []struct {
		url      string
		idx      *Index
		rollback bool
	}{
		{"a", day(10), false},
		{"a", day(10), false}, // the same index again
		{"a", day(11), false}, // newer
		{"a", day(2), true},   // older than day 11
		{"b", day(2), false},  // another repository
		{"a", &Index{}, false},
	} {
		err := checkRollback(c, tc.url, tc.idx)
		if errors.Is(err, ErrRollback) != tc.rollback {
			t.Errorf("%s %v: %v", tc.url, tc.idx.Date, err)
		}
	}
}

func TestCheckRecordName(t *testing.T) {
	for _, tc := range []struct {
		name, version string
		ok            bool
	}{
		{"musl", "1.2.4_git20230717-r4", true},
		{"so:libc.musl-x86_64.so.1", "1", true},
		{"../../etc/x", "1.0-r0", false},
		{"a/b", "1.0-r0", false},
		{"..", "1.0-r0", false},
		{".hidden", "1.0-r0", false},
		{"x", "1.0/../../y", false},
	} {
		err := checkRecordName(&Package{Name: tc.name, Version: tc.version})
		if tc.ok != (err == nil) || (err != nil && !errors.Is(err, ErrFormat)) {
			t.Errorf("%s %s: %v", tc.name, tc.version, err)
		}
	}
}
