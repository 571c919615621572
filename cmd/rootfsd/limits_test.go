package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// limitArgs is a build of busybox and zlib from srv into cache, as tar.
func limitArgs(srv *apkServer, cache, out string, extra ...string) []string {
	return append([]string{"--cache-dir", cache, "build", "--distro", "alpine:3.19", "--repository", srv.Repo(),
		"--pkgs", "busybox,zlib", "--output", "tar:" + out}, extra...)
}

// childRun runs the test binary as rootfsd with args and the extra
// environment, and returns its exit code and stderr.
func childRun(t *testing.T, cmd *exec.Cmd, env ...string) (int, string) {
	t.Helper()
	cmd.Env = append(os.Environ(), append([]string{"ROOTFSD_TEST_MAIN=1", "ROOTFSD_DAEMON=never"}, env...)...)
	var errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, errb.String()
	case errors.As(err, &ee) && ee.Exited():
		return ee.ExitCode(), errb.String()
	default:
		t.Fatalf("%v: %v\n%s", cmd.Args, err, errb.String())
		return -1, ""
	}
}

// verifyClean runs `rootfsd cache verify` on cache: it must exit 0, and a
// second run must find no problem at all.
func verifyClean(t *testing.T, cache string) {
	t.Helper()
	for pass := 0; pass < 2; pass++ {
		stdout, stderr, code := cli(context.Background(), "--cache-dir", cache, "cache", "verify")
		if code != 0 || (pass == 1 && !strings.Contains(stdout, " 0 problems")) {
			t.Fatalf("cache verify (pass %d): exit %d\n%s%s", pass, code, stdout, stderr)
		}
	}
}

// needRoot skips a test that mounts or changes users.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("SKIP: needs root (mounts a tmpfs or runs a child as another uid)")
	}
}

// TestLimitDiskFull builds into a cache on a 2 MiB tmpfs: the build fails
// saying the disk is full, the cache verifies clean afterwards, and the
// same build succeeds once there is room (the tmpfs grown to 64 MiB).
func TestLimitDiskFull(t *testing.T) {
	needRoot(t)
	srv := newAPKServer(t)
	cache := filepath.Join(t.TempDir(), "cache")
	if err := os.Mkdir(cache, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", cache, "tmpfs", 0, "size=2m"); err != nil {
		t.Skipf("SKIP: cannot mount a tmpfs (%v): the disk-full test needs mount permission", err)
	}
	t.Cleanup(func() { syscall.Unmount(cache, syscall.MNT_DETACH) })
	out := filepath.Join(t.TempDir(), "x.tar")
	_, stderr, code := cli(context.Background(), limitArgs(srv, cache, out)...)
	if code == 0 {
		t.Fatal("build into a 2 MiB cache succeeded")
	}
	if !strings.Contains(stderr, "no space left on device") {
		t.Errorf("disk-full error does not say so:\n%s", stderr)
	}
	t.Logf("disk full: %s", lastLine(stderr))
	verifyClean(t, cache)
	if err := syscall.Mount("tmpfs", cache, "tmpfs", syscall.MS_REMOUNT, "size=64m"); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := cli(context.Background(), limitArgs(srv, cache, out)...); code != 0 {
		t.Fatalf("build after making room: exit %d\n%s", code, stderr)
	}
	verifyClean(t, cache)
}

// TestLimitCacheNotWritable runs a build as uid 65534 against a cache root
// owned and filled: the error names the cache and the permission problem,
// and the cache is untouched.
func TestLimitCacheNotWritable(t *testing.T) {
	needRoot(t)
	srv := newAPKServer(t)
	base := t.TempDir()
	cache := filepath.Join(base, "cache")
	if _, stderr, code := cli(context.Background(), limitArgs(srv, cache, filepath.Join(base, "root.tar"))...); code != 0 {
		t.Fatalf("root build: exit %d\n%s", code, stderr)
	}
	// uid 65534 can reach the cache (0755) and a copy of the test binary,
	// and write only its own output directory.
	for _, p := range []string{filepath.Dir(base), base} {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(base, "rootfsd.test")
	data, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(base, "home")
	if err := os.Mkdir(home, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(home, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	for _, extra := range [][]string{nil, {"--pkgs", "apk-tools"}} { // cached, and needing downloads
		cmd := exec.Command(bin, limitArgs(srv, cache, filepath.Join(home, "x.tar"), extra...)...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		code, stderr := childRun(t, cmd, "HOME="+home, "XDG_CACHE_HOME="+home, "XDG_RUNTIME_DIR="+home)
		if code == 0 {
			t.Fatalf("uid 65534 built into root's cache %v", extra)
		}
		if !strings.Contains(stderr, cache) || !(strings.Contains(stderr, "not writable") || strings.Contains(stderr, "permission denied")) {
			t.Errorf("permission error does not name the cache and the problem:\n%s", stderr)
		}
		t.Logf("uid 65534: %s", lastLine(stderr))
	}
	verifyClean(t, cache)
}

// TestLimitStorageReadOnly commits into a containers-storage that cannot
// be written (a read-only bind mount): a clear error, no image, and the
// cache verifies clean.
func TestLimitStorageReadOnly(t *testing.T) {
	needRoot(t)
	srv := newAPKServer(t)
	env := newCrashEnv(t, srv)
	env.build(t, 0, "first") // the store exists and holds one image
	if err := syscall.Mount(env.graph, env.graph, "", syscall.MS_BIND, ""); err != nil {
		t.Skipf("SKIP: cannot bind-mount (%v)", err)
	}
	t.Cleanup(func() { syscall.Unmount(env.graph, syscall.MNT_DETACH) })
	if err := syscall.Mount("", env.graph, "", syscall.MS_REMOUNT|syscall.MS_BIND|syscall.MS_RDONLY, ""); err != nil {
		t.Skipf("SKIP: cannot make the bind mount read-only (%v)", err)
	}
	cmd, _, _ := env.command(1, "second")
	code, stderr := childRun(t, cmd, "CONTAINERS_STORAGE_CONF="+env.conf)
	if code == 0 {
		t.Fatal("commit into a read-only containers-storage succeeded")
	}
	if !strings.Contains(stderr, "containers-storage") || !strings.Contains(stderr, "read-only file system") {
		t.Errorf("read-only storage error is not clear:\n%s", stderr)
	}
	t.Logf("read-only storage: %s", lastLine(stderr))
	verifyClean(t, env.cache)
	syscall.Unmount(env.graph, 0)
	names, partial := env.checkStorage(t, false)
	if _, ok := names["localhost/crash:second"]; ok || partial != 0 || len(names) != 1 {
		t.Errorf("storage after the failed commit: %v, %d partial", names, partial)
	}
}

// TestLimitOutOfFiles runs builds with RLIMIT_NOFILE far too low: they
// fail saying so (and do not crash), the cache verifies clean, and a build
// with the normal limit succeeds.
func TestLimitOutOfFiles(t *testing.T) {
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		t.Skip("SKIP: prlimit (util-linux) not installed")
	}
	srv := newAPKServer(t)
	base := t.TempDir()
	cache, out := filepath.Join(base, "cache"), filepath.Join(base, "x.tar")
	var failed int
	for _, n := range []int{8, 12, 16} {
		args := append([]string{fmt.Sprintf("--nofile=%d:%d", n, n), os.Args[0]}, limitArgs(srv, cache, out)...)
		code, stderr := childRun(t, exec.Command(prlimit, args...))
		if strings.Contains(stderr, "panic") || strings.Contains(stderr, "goroutine ") {
			t.Errorf("nofile=%d: crashed:\n%s", n, stderr)
		}
		if code != 0 {
			failed++
			if !strings.Contains(stderr, "too many open files") {
				t.Errorf("nofile=%d: exit %d without saying why:\n%s", n, code, stderr)
			}
			t.Logf("nofile=%d: %s", n, lastLine(stderr))
		}
		verifyClean(t, cache)
	}
	if failed == 0 {
		t.Error("no build failed with 8 file descriptors")
	}
	if _, stderr, code := cli(context.Background(), limitArgs(srv, cache, out)...); code != 0 {
		t.Fatalf("build with the normal limit: exit %d\n%s", code, stderr)
	}
	verifyClean(t, cache)
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	return s[strings.LastIndex(s, "\n")+1:]
}
