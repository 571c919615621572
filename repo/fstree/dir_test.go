package fstree

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestWriteDir(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("keeping ownership needs root")
	}
	tr := sampleTree(t, false)
	if err := tr.Lchown("etc/passwd", 1234, 5678); err != nil {
		t.Fatal(err)
	}
	// A symlink pointing out of the root must be created, never followed.
	if err := tr.Symlink("/etc/shadow", "etc/shadow", Attr{Mode: 0o777}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "rootfs")
	epoch := time.Unix(1800000000, 0)
	err := tr.WriteDir(out, DirOptions{Epoch: epoch})
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.ENOTSUP) {
		t.Skipf("this machine refuses device nodes or xattrs: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	check := func(p string, mode fs.FileMode, uid int, mtime time.Time) {
		t.Helper()
		fi, err := os.Lstat(filepath.Join(out, p))
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		if fi.Mode() != mode || int(st.Uid) != uid || !fi.ModTime().Equal(mtime) {
			t.Errorf("%s: mode %v uid %d mtime %v; want %v %d %v", p, fi.Mode(), st.Uid, fi.ModTime(), mode, uid, mtime)
		}
	}
	old := time.Unix(1700000000, 0)
	check("usr/bin/sudo", 0o755|fs.ModeSetuid, 0, old)
	check("tmp", 0o777|fs.ModeDir|fs.ModeSticky, 0, old)
	check("etc/passwd", 0o644, 1234, old)
	check("bin", 0o777|fs.ModeSymlink, 0, old)
	check("usr/bin/ping", 0o755, 1<<22, epoch)
	check("run/initctl", 0o600|fs.ModeNamedPipe, 0, old)
	check("dev/null", 0o666|fs.ModeDevice|fs.ModeCharDevice, 0, old)
	if got, err := os.Readlink(filepath.Join(out, "etc/shadow")); err != nil || got != "/etc/shadow" {
		t.Errorf("readlink etc/shadow = %q, %v", got, err)
	}
	a, _ := os.Stat(filepath.Join(out, "usr/bin/sudo"))
	b, _ := os.Stat(filepath.Join(out, "usr/bin/sudoedit"))
	if !os.SameFile(a, b) {
		t.Error("sudoedit is not a hard link of sudo")
	}
	long := filepath.Join(out, "usr/share/doc", strings.Repeat("long-name-", 12), "README")
	if got, err := os.ReadFile(long); err != nil || !bytes.Equal(got, bytes.Repeat([]byte("x"), 5000)) {
		t.Errorf("spooled file: %d bytes, %v", len(got), err)
	}
	buf := make([]byte, 16)
	if n, err := unix.Getxattr(filepath.Join(out, "usr/bin/ping"), "user.b", buf); err != nil || string(buf[:n]) != "2" {
		t.Errorf("xattr user.b = %q, %v", buf[:n], err)
	}
	buf = make([]byte, 64)
	if n, err := unix.Getxattr(filepath.Join(out, "usr/bin/ping"), "security.capability", buf); err != nil || string(buf[:n]) != capNetRaw {
		t.Errorf("security.capability = %q, %v", buf[:n], err)
	}

	if err := tr.WriteDir(out, DirOptions{}); !errors.Is(err, fs.ErrExist) {
		t.Errorf("WriteDir into a full directory = %v", err)
	}
}

func TestWriteDirIgnore(t *testing.T) {
	tr := newTree(t, Options{}, dir("usr/"), file("usr/f", "x"), symlink("l", "usr/f"),
		entry{name: "dev/null", typ: '3', mode: 0o666})
	if err := tr.Lchown("usr/f", 4321, 4321); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if err := tr.WriteDir(out, DirOptions{IgnoreOwnership: true, SkipDevices: true}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(out, "usr/f"))
	if err != nil || int(fi.Sys().(*syscall.Stat_t).Uid) != os.Geteuid() {
		t.Errorf("usr/f: %v, %v", fi, err)
	}
	if _, err := os.Lstat(filepath.Join(out, "dev/null")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("device written despite SkipDevices: %v", err)
	}
}

// TestWriteDirUnprivileged runs WriteDir as nobody in a child process: a
// tree owned by root must fail with ErrOwnership before anything is written.
func TestWriteDirUnprivileged(t *testing.T) {
	if os.Getenv("FSTREE_CHILD") == "1" {
		tr := newTree(t, Options{}, dir("etc/"), file("etc/passwd", "x"))
		out := filepath.Join(os.Getenv("FSTREE_OUT"), "root")
		err := tr.WriteDir(out, DirOptions{})
		if !errors.Is(err, ErrOwnership) {
			t.Fatalf("WriteDir as uid %d = %v, want ErrOwnership", os.Geteuid(), err)
		}
		if _, serr := os.Stat(out); !errors.Is(serr, fs.ErrNotExist) {
			t.Fatalf("something was written: %v", serr)
		}
		if err := tr.WriteDir(out, DirOptions{IgnoreOwnership: true}); err != nil {
			t.Fatal(err)
		}
		return
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to switch to another user")
	}
	tmp, err := os.MkdirTemp("", "fstree-nobody-") // t.TempDir's parent is private
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(tmp) })
	if err := os.Chmod(tmp, 0o777); err != nil {
		t.Fatal(err)
	}
	// The test binary lives in a directory nobody may not enter: copy it.
	bin, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(tmp, "fstree.test")
	if err := os.WriteFile(exe, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestWriteDirUnprivileged$", "-test.v")
	cmd.Env = append(os.Environ(), "FSTREE_CHILD=1", "FSTREE_OUT="+tmp, "TMPDIR="+tmp)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "--- PASS") {
		t.Fatalf("child did not pass:\n%s", out)
	}
}
