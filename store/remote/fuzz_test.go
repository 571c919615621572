package remote_test

import (
	"strings"
	"testing"

	"github.com/rootfsd/rootfsd/store/remote"
)

// FuzzParseRef: a reference from flags or a config file never panics, and
// one that parses names a host and a repository without tag or digest.
func FuzzParseRef(f *testing.F) {
	for _, s := range []string{"oci://127.0.0.1:5000/ci/cache", "oci://h/r", "oci:///", "oci://h/r:t", "oci://h/r@sha256:00", "docker://h/r", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ref string) {
		host, repo, err := remote.ParseRef(ref)
		if err != nil {
			return
		}
		if host == "" || repo == "" || strings.ContainsAny(repo, ":@") || strings.Contains(host, "/") {
			t.Fatalf("ParseRef(%q) = %q, %q", ref, host, repo)
		}
		_, _ = remote.New(ref, remote.Options{AuthFiles: []string{}})
	})
}
