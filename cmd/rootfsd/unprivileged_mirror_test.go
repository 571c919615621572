//go:build mirror

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestMirrorUnprivilegedBuild builds ubuntu:24.04 ca-certificates as
// nobody (no root, no user namespace) and as root with another cache: the
// two tars are byte-identical, and dpkg lists every package of the lock.
func TestMirrorUnprivilegedBuild(t *testing.T) {
	bin := os.Getenv("ROOTFSD_BIN")
	if bin == "" || os.Geteuid() != 0 {
		t.Skip("SKIPPING: needs ROOTFSD_BIN (make test-mirror sets it) and root to start a child as nobody")
	}
	skipWithoutMirror(t, "ubuntu:24.04")
	dir, err := os.MkdirTemp("", "rootfsd-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o777)
	lock := filepath.Join(dir, "rootfs.lock")
	if _, stderr, code := runCLI(t, "--cache-dir", t.TempDir(), "lock", "--distro", "ubuntu:24.04", "--pkgs", "ca-certificates", "-o", lock); code != 0 {
		t.Fatalf("lock: %s", stderr)
	}
	os.Chmod(lock, 0o644)
	c := exec.Command(bin, "--cache-dir", filepath.Join(dir, "cache"), "build", "--lock", lock, "--output", "tar:"+filepath.Join(dir, "nobody.tar"))
	c.Dir = dir
	c.Env = append(os.Environ(), "HOME="+dir, "ROOTFSD_DAEMON=never")
	c.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	if out, err := c.CombinedOutput(); err != nil {
		t.Fatalf("build as nobody: %v\n%s", err, out)
	}
	rootTar := filepath.Join(t.TempDir(), "root.tar")
	if _, stderr, code := runCLI(t, "--cache-dir", t.TempDir(), "build", "--lock", lock, "--output", "tar:"+rootTar); code != 0 {
		t.Fatalf("build as root: %s", stderr)
	}
	if sha256File(t, filepath.Join(dir, "nobody.tar")) != sha256File(t, rootTar) {
		t.Fatal("the tar built by nobody differs from root's")
	}
	entries := readTar(t, rootTar)
	for _, p := range []string{"etc/passwd", "etc/group", "etc/ssl/certs/ca-certificates.crt", "usr/bin/openssl", "var/lib/dpkg/status"} {
		if _, ok := entries[p]; !ok {
			t.Errorf("%s missing", p)
		}
	}
	if tmp := entries["tmp"]; tmp.hdr == nil || tmp.hdr.Mode&0o7777 != 0o1777 {
		t.Error("/tmp is not 1777")
	}
	for _, user := range []string{"root:", "nobody:"} {
		if !strings.Contains(string(entries["etc/passwd"].data), "\n"+user) && !strings.HasPrefix(string(entries["etc/passwd"].data), user) {
			t.Errorf("/etc/passwd has no %s entry", user)
		}
	}
	status := string(entries["var/lib/dpkg/status"].data)
	for _, pkg := range []string{"ca-certificates", "openssl", "libssl3t64", "libc6", "base-files"} {
		if !strings.Contains(status, "Package: "+pkg+"\n") {
			t.Errorf("dpkg status lacks %s", pkg)
		}
	}
}
