package publish

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"syscall"

	"go.podman.io/storage/pkg/reexec"
	"go.podman.io/storage/pkg/unshare"
)

// InitReexec must be the first call in main: containers-storage runs some
// of its work (mounting, chowning) in a copy of the program started with a
// special name, and this call runs that work and returns true in such a
// copy, which must then exit.
func InitReexec() bool {
	if len(os.Args) > 0 && os.Args[0] == usernsProbe {
		return true // probeUserNamespace's child: starting was its whole job
	}
	return reexec.Init()
}

// InUserNamespace reports whether the process runs as root in a user
// namespace set up for rootless storage (by ReexecInUserNamespace, podman
// unshare or buildah unshare).
func InUserNamespace() bool {
	return os.Geteuid() == 0 && unshare.IsRootless()
}

// ErrNoSubIDs is wrapped by CheckRootless when the user has no subordinate
// id ranges or the tools to map them.
var ErrNoSubIDs = errors.New("no subordinate ids for a rootless user namespace")

// ErrNoUserNamespace is wrapped by ReexecInUserNamespace when this process
// may not create a user namespace at all.
var ErrNoUserNamespace = errors.New("user namespaces are not available")

// usernsProbe is the name probeUserNamespace starts the program under.
const usernsProbe = "rootfsd-userns-probe"

// probeUserNamespace starts a copy of the program in a new user namespace
// (InitReexec makes it exit at once). A seccomp profile (most container
// runtimes' default for unprivileged users), kernel.unprivileged_userns_clone=0,
// user.max_user_namespaces=0 or a kernel without them make clone(2) fail,
// and the error says so, before the re-execution that would fail with
// containers-storage's own messages.
func probeUserNamespace() error {
	cmd := exec.Command("/proc/self/exe")
	cmd.Args = []string{usernsProbe}
	cmd.Env = []string{}
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUSER, Pdeathsig: syscall.SIGKILL}
	out, err := cmd.CombinedOutput()
	if err != nil {
		if len(out) > 0 {
			err = fmt.Errorf("%w: %s", err, bytes.TrimSpace(out))
		}
		return err
	}
	return nil
}

// CheckRootless tells whether an unprivileged user can get the user
// namespace containers-storage needs: newuidmap and newgidmap installed
// (package uidmap) and ranges for the user in /etc/subuid and /etc/subgid.
// Without them only the user's own id could be mapped, every file of the
// image would have to belong to root, and layers with other owners (most
// images) would fail to apply; the error says how to fix it.
func CheckRootless() error {
	if os.Geteuid() == 0 {
		return nil
	}
	u, err := user.Current()
	if err != nil {
		return fmt.Errorf("publish: rootless storage: current user: %w", err)
	}
	var missing []string
	for _, tool := range []string{"newuidmap", "newgidmap"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool+" is not installed (apt-get install uidmap)")
		}
	}
	for _, f := range []string{"/etc/subuid", "/etc/subgid"} {
		n, err := countRanges(f, u.Username, u.Uid)
		if err != nil || n == 0 {
			missing = append(missing, fmt.Sprintf("%s has no range for %s", f, u.Username))
		}
	}
	if len(missing) == 0 {
		return nil
	}
	uids, gids := freeRange("/etc/subuid"), freeRange("/etc/subgid")
	return fmt.Errorf("publish: containers-storage as %s (uid %s): %s: %w; as root run "+
		"`usermod --add-subuids %d-%d --add-subgids %d-%d %s` (ranges no other user has), "+
		"or write the image with --output oci-archive:FILE, oci:DIR or docker-archive:FILE, which need no user namespace",
		u.Username, u.Uid, strings.Join(missing, "; "), ErrNoSubIDs,
		uids, uids+subIDCount-1, gids, gids+subIDCount-1, u.Username)
}

// subIDCount is the size of the range CheckRootless suggests, useradd's
// default: enough for the ids images use (nobody is 65534).
const subIDCount = 65536

// freeRange returns where a new range of a subordinate id file can start
// without overlapping another user's: after the highest one, and not below
// 100000, where useradd starts.
func freeRange(path string) uint64 {
	next := uint64(100000)
	data, err := os.ReadFile(path)
	if err != nil {
		return next
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Split(strings.TrimSpace(line), ":")
		if len(f) != 3 {
			continue
		}
		start, err1 := strconv.ParseUint(f[1], 10, 32)
		count, err2 := strconv.ParseUint(f[2], 10, 32)
		if err1 == nil && err2 == nil && start+count > next {
			next = start + count
		}
	}
	return next
}

// countRanges counts the lines of a subordinate id file for a user, given
// by name or uid.
func countRanges(path, name, uid string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		owner, rest, ok := strings.Cut(strings.TrimSpace(sc.Text()), ":")
		if ok && (owner == name || owner == uid) && strings.Count(rest, ":") == 1 {
			n++
		}
	}
	return n, sc.Err()
}

// ReexecInUserNamespace makes containers-storage usable for an
// unprivileged user: it checks CheckRootless and re-executes the program in
// a new user and mount namespace that maps the user's id to root and the
// subordinate ranges after it (what podman and buildah do), then exits
// with the child's status. Where user namespaces are forbidden the error
// wraps ErrNoUserNamespace. It returns nil at once for root, and in the
// re-executed child. Call it early in main, before starting goroutines that
// matter, only when a containers-storage output is requested: the other
// outputs need no namespace.
func ReexecInUserNamespace() error {
	if err := CheckUserNamespace(); err != nil {
		return err
	}
	if os.Geteuid() == 0 {
		return nil
	}
	unshare.MaybeReexecUsingUserNamespace(false)
	return nil
}

// CheckUserNamespace tells, before ReexecInUserNamespace, whether this
// unprivileged process can get its user namespace: one can be created
// (else the error wraps ErrNoUserNamespace) and CheckRootless passes. It
// returns nil for root.
func CheckUserNamespace() error {
	if os.Geteuid() == 0 {
		return nil
	}
	if err := probeUserNamespace(); err != nil {
		return fmt.Errorf("publish: containers-storage as uid %d: a new user namespace: %w: %w; "+
			"a seccomp profile (a container's default), kernel.unprivileged_userns_clone=0 or user.max_user_namespaces=0 "+
			"forbid them: allow them, run as root, or write the image with --output oci-archive:FILE, oci:DIR or "+
			"docker-archive:FILE, which need no user namespace", os.Geteuid(), ErrNoUserNamespace, err)
	}
	return CheckRootless()
}
