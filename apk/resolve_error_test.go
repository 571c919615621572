package apk

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rootfsd/rootfsd/repo"
)

func TestResolveErrors(t *testing.T) {
	r, err := NewResolver(fixtureRepos(t, "v3.19/main/x86_64"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Resolve(goals("busybx"))
	var unknown *repo.UnknownPackageError
	if !errors.As(err, &unknown) {
		t.Fatalf("busybx: got %v, want UnknownPackageError", err)
	}
	if !contains(unknown.Suggestions, "busybox") {
		t.Errorf("suggestions %v lack busybox", unknown.Suggestions)
	}

	_, err = r.Resolve(goals("jq>=2"))
	var unsat *repo.UnsatisfiableError
	if !errors.As(err, &unsat) {
		t.Fatalf("jq>=2: got %v, want UnsatisfiableError", err)
	}
	want := []string{"requested jq>=2", "jq>=2: no acceptable provider:", "  jq-1.7.1-r0 does not satisfy jq>=2"}
	if diff := cmp.Diff(want, unsat.Chain); diff != "" {
		t.Errorf("chain (-want +got):\n%s", diff)
	}

	// ifupdown-ng conflicts with vlan: asked for both, nothing helps.
	_, err = r.Resolve(goals("ifupdown-ng", "vlan"))
	if !errors.As(err, &unsat) {
		t.Fatalf("ifupdown-ng vlan: got %v, want UnsatisfiableError", err)
	}
	if got := strings.Join(unsat.Chain, "\n"); !strings.Contains(got, "ifupdown-ng-0.12.1-r4 depends on !vlan") ||
		!strings.Contains(got, "requested vlan") {
		t.Errorf("conflict chain lacks the reasons:\n%s", got)
	}

	// Asking for the virtual name instead lets the other provider win.
	got := names(resolveIDs(t, fixtureRepos(t, "v3.19/main/x86_64"), "ifupdown-any", "vlan"))
	if !contains(got, "busybox-ifupdown") || contains(got, "ifupdown-ng") {
		t.Errorf("ifupdown-any vlan resolved to %v", got)
	}
}
