package main

// Rootless podman as a throw-away user, without a login session: the
// helpers of the tests that build with --tag as an unprivileged user and
// look at the result with that user's podman and skopeo.

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rootfsd/rootfsd/cmd/rootfsd/engine"
)

// rootlessUser runs commands as an unprivileged user the way a login
// session would, without one: its own HOME and XDG_RUNTIME_DIR.
type rootlessUser struct {
	u      *user.User
	cred   *syscall.Credential
	env    []string
	bin    string   // rootfsd, where the user can run it
	binEnv []string // what bin needs besides env
}

// newRootlessUser creates a user named prefix+PID with subordinate ids (a
// free range, picked by useradd), a private runtime directory and rootfsd
// in a directory everyone can read (share, returned too); it skips unless
// the test runs as root with podman, newuidmap, newgidmap and the tools
// named. Everything is removed at the end: the user's processes, its home
// and storage, its runtime directories and its /etc/subuid entries.
func newRootlessUser(t *testing.T, prefix string, tools ...string) (*rootlessUser, string) {
	t.Helper()
	needUserTools(t)
	for _, tool := range append([]string{"podman", "newuidmap", "newgidmap"}, tools...) {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("SKIPPING: %s is not installed (make deps installs it): rootless podman was not tested", tool)
		}
	}
	share := sharedDir(t)
	bin, binEnv := rootfsdForUsers(t, share)
	runDir, err := os.MkdirTemp("", "rfsd-xdg-") // short: podman's runroot lives below
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(runDir) }) // after the user's processes
	name := prefix + strconv.Itoa(os.Getpid()%100000)
	t.Cleanup(func() { checkSubIDsGone(t, name) })
	u := addUser(t, name)
	if _, n := subIDRange(t, u); n < 65536 {
		t.Fatalf("useradd gave %s %d subordinate uids, want at least 65536", u.Username, n)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		t.Fatal(err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		t.Fatal(err)
	}
	r := &rootlessUser{u: u, cred: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, bin: bin, binEnv: binEnv}
	if err := os.Chown(runDir, int(uid), int(gid)); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(runDir, 0o700); err != nil {
		t.Fatal(err)
	}
	r.env = []string{"HOME=" + u.HomeDir, "USER=" + u.Username, "LOGNAME=" + u.Username, "XDG_RUNTIME_DIR=" + runDir,
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "ROOTFSD_DAEMON=never"}
	// The mirror root's tests use, and a proxy to reach it.
	for _, k := range []string{"ROOTFSD_MIRROR", "ROOTFSD_SECURITY_MIRROR", "http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"} {
		if v, ok := os.LookupEnv(k); ok {
			r.env = append(r.env, k+"="+v)
		}
	}
	return r, share
}

// rootfsdForUsers copies the rootfsd binary (ROOTFSD_BIN, else this test
// binary as rootfsd) into share, where users can run it, and returns it
// with the environment it needs.
func rootfsdForUsers(t *testing.T, share string) (string, []string) {
	t.Helper()
	src, env := os.Getenv("ROOTFSD_BIN"), []string(nil)
	if src == "" {
		src, env = os.Args[0], []string{"ROOTFSD_TEST_MAIN=1"}
	}
	bin := filepath.Join(share, "rootfsd")
	copyFile(t, src, bin, 0o755)
	return bin, env
}

// buildResult decodes the JSON a `--format json build` printed.
func buildResult(t *testing.T, stdout string) engine.BuildResult {
	t.Helper()
	var res engine.BuildResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || res.ImageID == "" {
		t.Fatalf("build result: %v, image %q\n%s", err, res.ImageID, stdout)
	}
	res.ImageID = strings.TrimPrefix(res.ImageID, "sha256:")
	return res
}

// checkSubIDsGone fails the test when /etc/subuid or /etc/subgid still
// name the removed user.
func checkSubIDsGone(t *testing.T, name string) {
	for _, f := range []string{"/etc/subuid", "/etc/subgid"} {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(line, name+":") {
				t.Errorf("%s still has %q after userdel", f, line)
			}
		}
	}
}

// run runs name with args as the user in its home and returns stdout; a
// failure or a hang of five minutes fails the test with stderr.
func (r *rootlessUser) run(t *testing.T, name string, args ...string) string {
	t.Helper()
	return r.runEnv(t, nil, name, args...)
}

func (r *rootlessUser) runEnv(t *testing.T, extra []string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(slices.Clone(r.env), extra...)
	cmd.Dir = r.u.HomeDir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: r.cred}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s as %s: %v\n%s%s", name, strings.Join(args, " "), r.u.Username, err, out, stderr.String())
	}
	return string(out)
}

// rootfsd runs the rootfsd binary with args as the user.
func (r *rootlessUser) rootfsd(t *testing.T, args ...string) string {
	t.Helper()
	return r.runEnv(t, r.binEnv, r.bin, args...)
}

// podman runs rootless podman as the user with what works without a login
// session: no systemd user instance for cgroups or events.
func (r *rootlessUser) podman(t *testing.T, args ...string) string {
	t.Helper()
	return r.run(t, "podman", append([]string{"--cgroup-manager", "cgroupfs", "--events-backend", "file"}, args...)...)
}

// mkdir makes dir, owned by the user.
func (r *rootlessUser) mkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, int(r.cred.Uid), int(r.cred.Gid)); err != nil {
		t.Fatal(err)
	}
}
