package deb

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestOwnerDatabase(t *testing.T) {
	db := OwnerDatabase()
	for name, want := range map[string]bool{
		"var/lib/dpkg/info/libc6:amd64.list":    true,
		"var/lib/dpkg/info/coreutils.list":      true,
		"var/lib/dpkg/info/libc6:amd64.md5sums": false,
		"var/lib/dpkg/info/x/y.list":            false,
		"var/lib/dpkg/status":                   false,
		"usr/share/doc/info/a.list":             false,
	} {
		if got := db.Match(name); got != want {
			t.Errorf("Match(%q) = %v, want %v", name, got, want)
		}
	}
	got, err := db.Parse(map[string][]byte{
		"var/lib/dpkg/info/libc6:amd64.list": []byte("/.\n/lib\n/lib/x86_64-linux-gnu/libc.so.6\n"),
		"var/lib/dpkg/info/coreutils.list":   []byte("/.\n/usr/bin/ls"),
		"var/lib/dpkg/info/empty.list":       nil,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"libc6:amd64": {"/lib", "/lib/x86_64-linux-gnu/libc.so.6"},
		"coreutils":   {"/usr/bin/ls"},
		"empty":       nil,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("owners (-want +got):\n%s", diff)
	}
}
