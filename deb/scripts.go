package deb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/rootfsd/rootfsd/repo"
	"github.com/rootfsd/rootfsd/repo/fstree"
)

// The opt-in sandbox (AssembleOptions.Scripts): the real maintainer
// scripts of the packages no built-in covers run with the tree written to
// a temporary directory, in new user (unless already root), mount, PID,
// IPC, UTS and network namespaces, chrooted into it, with /proc mounted
// and the host's /dev/null, /dev/zero, /dev/random, /dev/urandom bound
// in. preinst runs with "install", then postinst with "configure", in
// configure order, as dpkg would for a fresh install with everything
// unpacked. What the scripts change is then copied back into the tree.
// Without privileges the scripts run as root of a user namespace that
// maps only the caller: a chown to another id fails, as it would for any
// rootless build, and files keep the ownership they had in the tree.
// Run as root, rootfsd keeps real ids so that scripts can chown; the
// scripts are then as trusted as with mmdebstrap --mode=root (a chroot is
// no boundary for root), only without network and with their own PID and
// mount namespaces.
//
// The sandbox needs util-linux's unshare(1) on the host; there is no
// network, and every script is bounded by scriptTimeout.

const scriptTimeout = 5 * time.Minute

// devices bound into the sandbox.
var sandboxDevices = []string{"null", "zero", "random", "urandom"}

// runScripts configures pkgs by running their scripts in the sandbox.
func (a *assembler) runScripts(pkgs []*instPkg) error {
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		return fmt.Errorf("--scripts needs unshare(1) from util-linux on the host: %w", err)
	}
	dir, err := os.MkdirTemp("", "rootfsd-scripts-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	root := filepath.Join(dir, "root")
	rootless := os.Geteuid() != 0
	if err := a.t.WriteDir(root, fstree.DirOptions{IgnoreOwnership: rootless, SkipDevices: true}); err != nil {
		return err
	}
	added, err := prepareSandbox(root)
	if err != nil {
		return err
	}
	for _, p := range pkgs {
		for _, s := range []struct{ name, arg string }{{"preinst", "install"}, {"postinst", "configure"}} {
			if len(p.script(s.name)) == 0 {
				continue
			}
			// dpkg-deb makes maintainer scripts executable; be as lenient.
			scriptPath := filepath.Join(root, "var/lib/dpkg/info", p.infoName+"."+s.name)
			if err := os.Chmod(scriptPath, 0o755); err != nil {
				return fmt.Errorf("%s %s: %w", p.name, s.name, err)
			}
			out, err := runSandboxed(a.ctx, unshare, root, rootless, p, s.name, s.arg)
			if err != nil {
				return fmt.Errorf("%s %s (sandbox): %w\n%s", p.name, s.name, err, tail(out, 2000))
			}
		}
		a.out.Ran = append(a.out.Ran, p.name+"="+p.version)
		a.opt.Report.Report(repo.Event{Kind: repo.EventConfig, Name: p.name, Message: "maintainer scripts ran in the sandbox"})
	}
	for _, p := range added {
		os.Remove(filepath.Join(root, p))
	}
	return a.syncFromDir(root, rootless)
}

// prepareSandbox creates the mount points the sandbox needs and returns
// the ones that were not in the tree, to remove afterwards.
func prepareSandbox(root string) ([]string, error) {
	var added []string
	for _, d := range []string{"proc", "dev"} {
		if _, err := os.Lstat(filepath.Join(root, d)); errors.Is(err, fs.ErrNotExist) {
			if err := os.Mkdir(filepath.Join(root, d), 0o755); err != nil {
				return nil, err
			}
			added = append(added, d)
		}
	}
	for _, dev := range sandboxDevices {
		p := filepath.Join(root, "dev", dev)
		if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
			if err := os.WriteFile(p, nil, 0o666); err != nil {
				return nil, err
			}
			added = append([]string{"dev/" + dev}, added...)
		}
	}
	return added, nil
}

// runSandboxed runs one maintainer script.
func runSandboxed(ctx context.Context, unshare, root string, rootless bool, p *instPkg, script, arg string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, scriptTimeout)
	defer cancel()
	args := []string{"--mount", "--net", "--pid", "--ipc", "--uts", "--fork", "--kill-child", "--mount-proc=" + filepath.Join(root, "proc")}
	if rootless {
		args = append([]string{"--user", "--map-root-user"}, args...)
	}
	var binds strings.Builder
	for _, dev := range sandboxDevices {
		fmt.Fprintf(&binds, "mount --bind /dev/%s \"$1/dev/%s\" && ", dev, dev)
	}
	inner := binds.String() + `exec chroot "$1" "$2" "$3"`
	args = append(args, "sh", "-c", inner, "sh", root, "/var/lib/dpkg/info/"+p.infoName+"."+script, arg)
	cmd := exec.CommandContext(ctx, unshare, args...)
	cmd.Env = []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"LC_ALL=C", "DEBIAN_FRONTEND=noninteractive", "DEBCONF_NONINTERACTIVE_SEEN=true",
		"DPKG_MAINTSCRIPT_PACKAGE=" + p.name, "DPKG_MAINTSCRIPT_ARCH=" + p.arch,
		"DPKG_MAINTSCRIPT_NAME=" + script, "DPKG_ADMINDIR=/var/lib/dpkg",
		"DPKG_ROOT=", "HOME=/root", "TMPDIR=/tmp",
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Stdin = nil
	err := cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("timed out after %v: %w", scriptTimeout, ctx.Err())
	}
	return out.Bytes(), err
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// syncFromDir makes the tree equal to dir: new and changed paths are
// copied in, paths gone from dir are removed. Rootless, the ownership in
// dir is the caller's and not copied: existing paths keep theirs, new ones
// are root's.
func (a *assembler) syncFromDir(dir string, rootless bool) error {
	seen := map[string]bool{}
	err := filepath.WalkDir(dir, func(full string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, full)
		if rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		seen[rel] = true
		fi, err := os.Lstat(full)
		if err != nil {
			return err
		}
		return a.syncPath(full, rel, fi, rootless)
	})
	if err != nil {
		return fmt.Errorf("read the sandbox back: %w", err)
	}
	var gone []string
	_ = a.t.Walk(func(i fstree.Info) error {
		if i.Path != "." && !seen[i.Path] {
			gone = append(gone, i.Path)
			if i.Kind == fstree.KindDir {
				return fs.SkipDir
			}
		}
		return nil
	})
	for _, p := range gone {
		if err := a.t.RemoveAll(p); err != nil {
			return err
		}
	}
	return nil
}

// syncPath copies one path of the sandbox into the tree if it differs.
func (a *assembler) syncPath(full, rel string, fi os.FileInfo, rootless bool) error {
	old, err := a.t.Lookup(rel)
	exists := err == nil
	attr := fileAttr(fi, a.epoch())
	if rootless || !fileHasOwner(fi) {
		attr.UID, attr.GID = 0, 0
		if exists {
			attr.UID, attr.GID = old.UID, old.GID
		}
	}
	switch {
	case fi.Mode().IsDir():
		if exists && old.Kind == fstree.KindDir {
			if old.Mode != attr.Mode {
				return a.t.Chmod(rel, attr.Mode)
			}
			return nil
		}
		if exists {
			if err := a.t.RemoveAll(rel); err != nil {
				return err
			}
		}
		return a.t.Mkdir(rel, attr)
	case fi.Mode()&fs.ModeSymlink != 0:
		target, err := os.Readlink(full)
		if err != nil {
			return err
		}
		if exists && old.Kind == fstree.KindSymlink && old.Target == target {
			return nil
		}
		if exists {
			if err := a.t.RemoveAll(rel); err != nil {
				return err
			}
		}
		return a.t.Symlink(target, rel, attr)
	case fi.Mode().IsRegular():
		data, err := os.ReadFile(full)
		if err != nil {
			return err
		}
		if exists && old.Kind == fstree.KindFile && old.Mode == attr.Mode && old.UID == attr.UID && old.GID == attr.GID {
			if cur, err := a.t.ReadFile(rel); err == nil && bytes.Equal(cur, data) {
				return nil
			}
		}
		if exists && old.Kind != fstree.KindFile {
			if err := a.t.RemoveAll(rel); err != nil {
				return err
			}
		}
		if exists && old.Kind == fstree.KindFile {
			attr.Owner = old.Owner
		}
		return a.t.WriteFile(rel, data, attr)
	}
	return nil // sockets, fifos, devices made by scripts are not kept
}
