package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Throw-away users for the tests that run rootfsd unprivileged: created
// with useradd (as root) and removed, with their home and processes, at
// the end of the test.

// needUserTools skips unless the test can create users and run as them.
func needUserTools(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("SKIP: creating throw-away users needs root: the unprivileged builds were not tested")
	}
	for _, tool := range []string{"useradd", "userdel", "setpriv"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("SKIP: %s is not installed: the unprivileged builds were not tested", tool)
		}
	}
}

// addUser creates a user with a home directory (useradd's defaults give it
// subordinate ids; extra can say otherwise), removed at the end.
func addUser(t *testing.T, name string, extra ...string) *user.User {
	t.Helper()
	args := append(append([]string{"-m", "-s", "/bin/sh"}, extra...), name)
	var out []byte
	var err error
	// useradd gives up at once when another process holds /etc/passwd's lock.
	for try := 0; try < 10; try++ {
		if out, err = exec.Command("useradd", args...).CombinedOutput(); err == nil || !bytes.Contains(out, []byte("lock")) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("useradd %s: %v\n%s", name, err, out)
	}
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		killUserProcesses(t, u)
		// Where containers' tools keep runtime state without XDG_RUNTIME_DIR.
		for _, dir := range []string{"containers-user-", "storage-run-", "podman-run-"} {
			os.RemoveAll(filepath.Join(os.TempDir(), dir+u.Uid))
		}
		if out, err := exec.Command("userdel", "-r", "-f", name).CombinedOutput(); err != nil {
			t.Logf("userdel %s: %v %s", name, err, out)
		}
	})
	return u
}

// killUserProcesses kills, by PID, what is left running as the throw-away
// user u: only this test started processes as that user.
func killUserProcesses(t *testing.T, u *user.User) {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		status, err := os.ReadFile(filepath.Join("/proc", e.Name(), "status"))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(status), "\n") {
			if f := strings.Fields(line); len(f) > 1 && f[0] == "Uid:" && f[1] == u.Uid {
				t.Logf("killing leftover process %d of %s", pid, u.Username)
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
}

// sharedDir is a temporary directory every user can read (t.TempDir's
// parent is private to root).
func sharedDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "rootfsd-users-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// copyFile copies src to dst with mode.
func copyFile(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, mode); err != nil {
		t.Fatal(err)
	}
}

// asUser runs the test binary bin as rootfsd with args, as u, in u's home
// and with a login-like environment; under the seccomp filter of
// seccomp_test.go when denyUserns. A hang ends in a kill after two minutes
// and shows as a failed run.
func asUser(t *testing.T, u *user.User, denyUserns bool, bin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	argv := append([]string{"--reuid", u.Uid, "--regid", u.Gid, "--init-groups", "--", bin}, args...)
	env := []string{"HOME=" + u.HomeDir, "USER=" + u.Username, "LOGNAME=" + u.Username,
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "ROOTFSD_TEST_MAIN=1", "ROOTFSD_DAEMON=never"}
	if denyUserns {
		// The wrapper executes its arguments: the binary again, as rootfsd.
		argv = append([]string{"--reuid", u.Uid, "--regid", u.Gid, "--init-groups", "--", bin, bin}, args...)
		env = append(env, denyUsernsEnv+"=1")
	}
	cmd := exec.CommandContext(ctx, "setpriv", argv...)
	cmd.Env = env
	cmd.Dir = u.HomeDir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code = cmd.ProcessState.ExitCode()
	if err != nil && code <= 0 {
		t.Fatalf("rootfsd %s as %s: %v\n%s", strings.Join(args, " "), u.Username, err, errb.String())
	}
	return out.String(), errb.String(), code
}
