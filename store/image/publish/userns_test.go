package publish

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestCountRanges(t *testing.T) {
	path := filepath.Join(t.TempDir(), "subuid")
	os.WriteFile(path, []byte("alice:100000:65536\n1001:165536:65536\nbob:231072\n  alice:300000:10  \nmallory:1:2:3\n"), 0o644)
	for _, tc := range []struct {
		name, uid string
		want      int
	}{{"alice", "1000", 2}, {"carol", "1001", 1}, {"bob", "1002", 0}, {"mallory", "1003", 0}, {"dave", "1004", 0}} {
		n, err := countRanges(path, tc.name, tc.uid)
		if err != nil || n != tc.want {
			t.Errorf("countRanges(%s, %s) = %d, %v; want %d", tc.name, tc.uid, n, err, tc.want)
		}
	}
	if _, err := countRanges(filepath.Join(t.TempDir(), "missing"), "a", "1"); err == nil {
		t.Error("missing file: no error")
	}
	if os.Geteuid() == 0 {
		if err := CheckRootless(); err != nil {
			t.Errorf("CheckRootless as root: %v", err)
		}
		if err := ReexecInUserNamespace(); err != nil {
			t.Errorf("ReexecInUserNamespace as root: %v", err)
		}
	}
}

func TestFreeRange(t *testing.T) {
	dir := t.TempDir()
	for name, tc := range map[string]struct {
		text string
		want uint64
	}{
		"empty":      {"", 100000},
		"one":        {"alice:100000:65536\n", 165536},
		"highest":    {"alice:231072:65536\nbob:100000:65536\n", 296608},
		"low":        {"svc:1000:10\n", 100000},
		"bad lines":  {"alice:100000:65536\nmallory:x:1\neve:900000\n# c:1:2:3\n", 165536},
		"by uid":     {"1001:165536:65536\n", 231072},
		"whitespace": {"  alice:100000:10  \n", 100010},
	} {
		path := filepath.Join(dir, name)
		os.WriteFile(path, []byte(tc.text), 0o644)
		if got := freeRange(path); got != tc.want {
			t.Errorf("%s: freeRange = %d, want %d", name, got, tc.want)
		}
	}
	if got := freeRange(filepath.Join(dir, "missing")); got != 100000 {
		t.Errorf("missing file: freeRange = %d, want 100000", got)
	}
}

// TestProbeUserNamespace: where unshare(1) can create a user namespace, so
// can the probe (a copy of the test binary that InitReexec ends at once).
// The probe under a seccomp filter that forbids them is tested by
// cmd/rootfsd's TestBuildWithoutUserNamespaces.
func TestProbeUserNamespace(t *testing.T) {
	if out, err := exec.Command("unshare", "--user", "true").CombinedOutput(); err != nil {
		t.Skipf("SKIP: unshare --user true fails here (%v %s): nothing to compare the probe with", err, out)
	}
	if err := probeUserNamespace(); err != nil {
		t.Errorf("probe: %v", err)
	}
}
