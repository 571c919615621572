//go:build mirror

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMirrorCheckDebian builds curl without ca-certificates from the real
// archive (the mirror from ROOTFSD_MIRROR or the host), expects the
// end-of-build check to miss the CA bundle, then breaks the tree and
// expects check to name the fixing package from the index.
func TestMirrorCheckDebian(t *testing.T) {
	dir := t.TempDir()
	g := []string{"--cache-dir", filepath.Join(dir, "cache"), "--daemon", "never"}
	out, stderr, code := runCLI(t, append(g, "build", "--distro", "debian:12", "--pkgs", "curl", "--variant", "custom",
		"--output", "dir:"+filepath.Join(dir, "rootfs"))...)
	if code != 0 {
		t.Skipf("no Debian mirror answers (exit %d): %s", code, stderr)
	}
	if !strings.Contains(stderr, "no CA bundle") || !strings.Contains(stderr, "install ca-certificates") {
		t.Errorf("build without ca-certificates: no CA warning:\n%s\n%s", out, stderr)
	}
	libs, _ := filepath.Glob(filepath.Join(dir, "rootfs/usr/lib/x86_64-linux-gnu/libnghttp2.so.14*"))
	if len(libs) == 0 {
		t.Skip("not an amd64 tree")
	}
	for _, l := range libs {
		os.Remove(l)
	}
	out, _, code = runCLI(t, append(g, "check", filepath.Join(dir, "rootfs"), "--entrypoint", "curl")...)
	if code != exitFailure || !strings.Contains(out, "libnghttp2.so.14, needed by /usr/lib/x86_64-linux-gnu/libcurl.so.4") || !strings.Contains(out, "install libnghttp2-14\n") {
		t.Errorf("check: exit %d\n%s", code, out)
	}
}
