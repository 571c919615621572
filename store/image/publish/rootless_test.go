package publish

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rootfsd/rootfsd/store/image"
)

var lookPath = exec.LookPath

func owner(fi os.FileInfo) (uint32, uint32) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 1<<32 - 1, 1<<32 - 1
	}
	return st.Uid, st.Gid
}

// The rootless child: the test binary run as an unprivileged user with
// childEnv=LAYER:DIFFID:TAG does what rootfsd does for --tag, then prints
// the CommitResult as JSON.
const childEnv = "ROOTFSD_PUBLISH_ROOTLESS_CHILD"

func rootlessChild() int {
	if err := ReexecInUserNamespace(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	// Only the re-executed child gets here (the parent exits with its status).
	parts := strings.SplitN(os.Getenv(childEnv), ":", 3)
	if len(parts) != 3 {
		fmt.Fprintln(os.Stderr, "bad", childEnv)
		return 2
	}
	ctx := context.Background()
	img, err := image.New(ctx, []image.Layer{{Path: parts[0], DiffID: parts[1]}},
		image.Config{Created: testEpoch, Architecture: "amd64", Cmd: []string{"/hello"}}, image.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer img.Close()
	t0 := time.Now()
	res, err := Commit(ctx, img, parts[2], CommitOptions{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "commit took %v, in user namespace: %v\n", time.Since(t0), InUserNamespace())
	json.NewEncoder(os.Stdout).Encode(res)
	return 0
}

// TestCommitRootless creates two throw-away users, one with subordinate
// ids and one without, and runs the commit as each through the test binary,
// in their default (rootless) storage, then lists and runs the image with
// rootless podman. It changes /etc/passwd and /etc/subuid for the duration,
// so it runs only with ROOTFSD_TEST_ROOTLESS=1, as root.
func TestCommitRootless(t *testing.T) {
	if os.Getenv("ROOTFSD_TEST_ROOTLESS") != "1" {
		t.Skip("SKIP: set ROOTFSD_TEST_ROOTLESS=1 (as root) to test the rootless commit with throw-away users")
	}
	if os.Geteuid() != 0 {
		t.Skip("SKIP: creating the test users needs root")
	}
	for _, tool := range []string{"useradd", "userdel", "setpriv", "newuidmap"} {
		lookTool(t, tool)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	suffix := strconv.Itoa(os.Getpid() % 100000)
	withIDs := addUser(t, "rfsd-rl-"+suffix)
	withoutIDs := addUser(t, "rfsd-no-"+suffix, "-K", "SUB_UID_COUNT=0", "-K", "SUB_GID_COUNT=0")

	// The binary and the layer where the users can read them.
	share, err := os.MkdirTemp("", "rootfsd-rootless-") // t.TempDir's parent is 0700
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(share) })
	os.Chmod(share, 0o755)
	bin := filepath.Join(share, "publish.test")
	data, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	files := append(sampleFiles(), file{name: "hello", typ: '0', mode: 0o755, body: helloBinary(t)})
	layer, diffID := writeLayer(t, filepath.Join(share, "layer.tar"), files)

	// Without subordinate ids: an actionable error, nothing else.
	out, err := asUser(t, withoutIDs, bin, layer+":"+diffID+":rootless:fail")
	if err == nil || !strings.Contains(out, "/etc/subuid has no range") || !strings.Contains(out, "usermod --add-subuids") {
		t.Errorf("commit without subordinate ids: %v\n%s", err, out)
	}

	// A user who has run podman before: the commit must land in the store
	// and driver that podman set up (vfs for Debian 12's podman 4.3).
	podman, err := lookPodman()
	podmanDriver := ""
	if err == nil {
		out, err := asUserCmd(t, withIDs, podman, "info", "--format", "{{.Store.GraphDriverName}}")
		if err != nil {
			t.Fatalf("podman info: %v\n%s", err, out)
		}
		podmanDriver = strings.TrimSpace(out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:])
	}
	out, err = asUser(t, withIDs, bin, layer+":"+diffID+":rootless:test")
	if err != nil {
		t.Fatalf("rootless commit: %v\n%s", err, out)
	}
	t.Logf("rootless child: %s", out)
	var res CommitResult
	if err := json.Unmarshal([]byte(out[strings.LastIndex(out, "{"):]), &res); err != nil {
		t.Fatalf("child output: %v\n%s", err, out)
	}
	if !strings.HasPrefix(res.GraphRoot, withIDs.HomeDir) {
		t.Errorf("rootless store at %s, not below %s", res.GraphRoot, withIDs.HomeDir)
	}
	if podman == "" {
		t.Skip("SKIP: podman is not installed: the rootless image was not listed or run with podman")
	}
	if res.Driver != podmanDriver {
		t.Errorf("committed with driver %s, podman uses %s", res.Driver, podmanDriver)
	}
	out, err = asUserCmd(t, withIDs, podman, "images", "--no-trunc", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}")
	if err != nil || !strings.Contains(out, "localhost/rootless:test") || !strings.Contains(out, res.ID) {
		t.Errorf("rootless podman images: %v\n%s", err, out)
	}
	out, err = asUserCmd(t, withIDs, podman, "run", "--rm", "--runtime", "runc", "--network", "none", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", "--cgroup-manager", "cgroupfs", "localhost/rootless:test")
	if err != nil || !strings.Contains(out, "hello from a rootfsd image") {
		t.Errorf("rootless podman run: %v\n%s", err, out)
	}
	t.Logf("rootless podman run: %s", strings.TrimSpace(out))
	// Owners inside the user's namespace are the image's.
	out, err = asUserCmd(t, withIDs, podman, "unshare", "sh", "-c",
		"cd "+res.GraphRoot+"/"+res.Driver+"/dir/* 2>/dev/null || cd "+res.GraphRoot+"/"+res.Driver+"/*/diff && stat -c '%n %u %g %a' bin/su home/user etc/shadow var/empty")
	if err != nil || !strings.Contains(out, "bin/su 0 0 4755") || !strings.Contains(out, "home/user 1000 1000 700") ||
		!strings.Contains(out, "etc/shadow 0 42 640") || !strings.Contains(out, "var/empty 65534 65534 755") {
		t.Errorf("owners in the rootless store: %v\n%s", err, out)
	}
	t.Logf("owners in the rootless store (podman unshare stat):\n%s", out)
}

// addUser creates a user with a home directory, removed at the end.
func addUser(t *testing.T, name string, extra ...string) *user.User {
	t.Helper()
	args := append([]string{"-m", "-s", "/bin/sh"}, extra...)
	runCmd(t, "useradd", append(args, name)...)
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		killUserProcesses(t, u) // rootless podman leaves a pause process behind
		if out, err := exec.Command("userdel", "-r", "-f", name).CombinedOutput(); err != nil {
			t.Logf("userdel %s: %v %s", name, err, out)
		}
		os.RemoveAll(filepath.Join(os.TempDir(), "rootfsd-run-"+name))
	})
	return u
}

// killUserProcesses kills, by PID, the processes left running as the
// throw-away user u: only the tests started processes as that user.
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

func userEnv(t *testing.T, u *user.User) []string {
	run := filepath.Join(os.TempDir(), "rootfsd-run-"+u.Username)
	os.MkdirAll(run, 0o700)
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	os.Chown(run, uid, gid)
	return []string{"HOME=" + u.HomeDir, "USER=" + u.Username, "LOGNAME=" + u.Username, "XDG_RUNTIME_DIR=" + run,
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
}

func asUserCmd(t *testing.T, u *user.User, name string, args ...string) (string, error) {
	cmd := exec.Command("setpriv", append([]string{"--reuid", u.Uid, "--regid", u.Gid, "--init-groups", "--", name}, args...)...)
	cmd.Env = userEnv(t, u)
	cmd.Dir = u.HomeDir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func asUser(t *testing.T, u *user.User, bin, spec string) (string, error) {
	cmd := exec.Command("setpriv", "--reuid", u.Uid, "--regid", u.Gid, "--init-groups", "--", bin, "-test.run=^$")
	cmd.Env = append(userEnv(t, u), childEnv+"="+spec)
	cmd.Dir = u.HomeDir
	out, err := cmd.CombinedOutput()
	return string(out), err
}
