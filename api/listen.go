package api

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// ListenOptions tune Listen.
type ListenOptions struct {
	// Mode is the socket's permission bits (0600 when zero). Peer
	// credentials are checked whatever the mode; the mode only decides who
	// can connect at all.
	Mode os.FileMode
	// Group, when not negative, becomes the socket's group (with --allow-group).
	Group int
	// PrivateDir makes the socket's directory if missing with mode 0700
	// (0750 with a Group) and refuses one that others may write to or that
	// another user owns: the default directories are created this way.
	PrivateDir bool
}

// Listen returns the socket systemd passed to this process (LISTEN_PID and
// LISTEN_FDS, the first descriptor), or else listens on path. A socket file
// left at path by a daemon that died is replaced; one that answers is not.
// The second result says whether the socket came from systemd.
func Listen(path string, opt ListenOptions) (net.Listener, bool, error) {
	if ln, ok, err := systemdListener(); ok || err != nil {
		return ln, ok, err
	}
	if path == "" {
		return nil, false, errors.New("listen: no socket path")
	}
	dir := filepath.Dir(path)
	if opt.PrivateDir {
		if err := privateDir(dir, opt.Group); err != nil {
			return nil, false, err
		}
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, false, fmt.Errorf("listen %s: exists and is not a socket", path)
		}
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return nil, false, fmt.Errorf("listen %s: another daemon is listening there", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, false, fmt.Errorf("listen %s: remove stale socket: %w", path, err)
		}
	}
	mode := opt.Mode
	if mode == 0 {
		mode = 0o600
	}
	// The socket appears with the umask's mode until the chmod below; the
	// umask is process-wide, so it is not narrowed here: every request's
	// credentials are checked anyway.
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, false, fmt.Errorf("listen %s: %w", path, err)
	}
	if opt.Group >= 0 {
		if err := os.Chown(path, -1, opt.Group); err != nil {
			ln.Close()
			return nil, false, fmt.Errorf("listen %s: chown to group %d: %w", path, opt.Group, err)
		}
	}
	if err := os.Chmod(path, mode); err != nil {
		ln.Close()
		return nil, false, fmt.Errorf("listen %s: %w", path, err)
	}
	return ln, false, nil
}

// privateDir makes dir (mode 0700, or 0750 for a group) or checks that the
// existing one is ours and not writable by others.
func privateDir(dir string, group int) error {
	mode := os.FileMode(0o700)
	if group >= 0 {
		mode = 0o750
	}
	if err := os.MkdirAll(dir, mode); err != nil {
		return fmt.Errorf("socket directory %s: %w", dir, err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("socket directory %s: %w", dir, err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	switch {
	case !fi.IsDir():
		return fmt.Errorf("socket directory %s: not a directory", dir)
	case !ok || int(st.Uid) != os.Geteuid():
		return fmt.Errorf("socket directory %s: owned by another user", dir)
	case fi.Mode().Perm()&0o022 != 0:
		return fmt.Errorf("socket directory %s: writable by others (mode %v)", dir, fi.Mode().Perm())
	}
	if group >= 0 {
		if err := os.Chown(dir, -1, group); err != nil {
			return fmt.Errorf("socket directory %s: chown to group %d: %w", dir, group, err)
		}
	}
	return nil
}

// systemdListener takes the first socket of systemd's socket activation
// protocol when it is meant for this process, and clears the variables so
// that children do not take it too.
func systemdListener() (net.Listener, bool, error) {
	pid, fds := os.Getenv("LISTEN_PID"), os.Getenv("LISTEN_FDS")
	if pid == "" || fds == "" || pid != strconv.Itoa(os.Getpid()) {
		return nil, false, nil
	}
	os.Unsetenv("LISTEN_PID")
	os.Unsetenv("LISTEN_FDS")
	os.Unsetenv("LISTEN_FDNAMES")
	n, err := strconv.Atoi(fds)
	if err != nil || n < 1 {
		return nil, false, fmt.Errorf("socket activation: LISTEN_FDS=%q", fds)
	}
	const first = 3 // SD_LISTEN_FDS_START
	syscall.CloseOnExec(first)
	f := os.NewFile(first, "systemd-socket")
	ln, err := net.FileListener(f)
	f.Close()
	if err != nil {
		return nil, false, fmt.Errorf("socket activation: fd %d: %w", first, err)
	}
	if ln.Addr().Network() != "unix" {
		ln.Close()
		return nil, false, fmt.Errorf("socket activation: fd %d is a %s socket, not unix", first, ln.Addr().Network())
	}
	return ln, true, nil
}

// DefaultSocket is where the daemon listens and clients look by default:
// /run/rootfsd/rootfsd.sock as root, $XDG_RUNTIME_DIR/rootfsd/rootfsd.sock
// otherwise (/tmp/rootfsd-UID/rootfsd.sock when XDG_RUNTIME_DIR is unset).
func DefaultSocket(euid int, getenv func(string) string) string {
	if euid == 0 {
		return "/run/rootfsd/rootfsd.sock"
	}
	if d := getenv("XDG_RUNTIME_DIR"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "rootfsd", "rootfsd.sock")
	}
	return filepath.Join(os.TempDir(), "rootfsd-"+strconv.Itoa(euid), "rootfsd.sock")
}
