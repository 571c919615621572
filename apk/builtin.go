package apk

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/rootfsd/rootfsd/repo"
	"github.com/rootfsd/rootfsd/repo/fstree"
)

// rootfsd runs no maintainer script: it builds roots of another
// architecture, without privileges, and must stay deterministic. Instead
// the scripts of the base packages have built-in equivalents, below; any
// other script is reported (Installer.NotRun and a warning event) as not
// run. Scripts only apk upgrades or removals run never apply to a fresh
// root.

// builtin runs the equivalent of ip's script, if the package has one.
func (in *Installer) builtin(ip *Installed, script string) error {
	if ip.File == nil || ip.File.Script(script) == nil {
		return nil
	}
	switch ip.Package.Name + " " + script {
	case "alpine-baselayout pre-install":
		return in.addShadowGroup()
	case "alpine-baselayout post-install":
		return in.lockShadow()
	case "busybox post-install":
		return in.busyboxInstall()
	case "openrc post-install":
		// It only migrates an old etc/rcS.d or etc/rcL.d; none on a fresh root.
		if !in.exists("etc/rcS.d") && !in.exists("etc/rcL.d") {
			return nil
		}
	}
	in.notRun(ip, script)
	return nil
}

func (in *Installer) notRun(ip *Installed, script string) {
	what := ip.Package.ID() + " " + script
	in.unrun = append(in.unrun, what)
	in.Reporter.Report(repo.Event{Kind: repo.EventWarning, Name: ip.Package.Name,
		Message: "apk: " + what + " script has no built-in equivalent and was not run"})
}

func (in *Installer) exists(p string) bool {
	_, err := in.Tree.Lookup(p)
	return err == nil
}

// addShadowGroup is alpine-baselayout's pre-install, `addgroup -S -g 42
// shadow`: add the group unless etc/group has it (alpine-baselayout-data
// ships it).
func (in *Installer) addShadowGroup() error {
	data, err := in.Tree.ReadFile("etc/group")
	if errors.Is(err, fs.ErrNotExist) {
		return nil // addgroup fails silently without etc/group
	}
	if err != nil {
		return err
	}
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, "shadow:") {
			return nil
		}
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		data = append(data, '\n')
	}
	info, err := in.Tree.Stat("etc/group")
	if err != nil {
		return err
	}
	return in.Tree.WriteFile("etc/group", append(data, "shadow:x:42:\n"...), info.Attr)
}

// lockShadow is alpine-baselayout's post-install (`chown root:shadow
// /etc/shadow; chmod 640 /etc/shadow`) plus what Alpine's image build does
// to the empty root password: lock it ("root:*:"), as the minirootfs has it.
func (in *Installer) lockShadow() error {
	data, err := in.Tree.ReadFile("etc/shadow")
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if bytes.HasPrefix(data, []byte("root::")) {
		data = append([]byte("root:*:"), data[len("root::"):]...)
	}
	info, err := in.Tree.Stat("etc/shadow")
	if err != nil {
		return err
	}
	a := info.Attr
	a.Mode, a.UID, a.GID, a.Uname, a.Gname = 0o640, 0, 42, "root", "shadow"
	return in.Tree.WriteFile("etc/shadow", data, a)
}

// busyboxInstall is busybox's post-install: `mkdir -p /bin /sbin /usr/bin
// /usr/sbin; busybox --install -s`.
func (in *Installer) busyboxInstall() error {
	for _, d := range []string{"bin", "sbin", "usr/bin", "usr/sbin"} {
		if err := in.Tree.MkdirAll(d, fstree.Attr{Mode: 0o755}); err != nil {
			return err
		}
	}
	return in.installApplets("bin/busybox", "etc/busybox-paths.d/busybox")
}

// installApplets links each applet of binary to it, as `<binary> --install
// -s` does: existing paths are left alone.
func (in *Installer) installApplets(binary, pathsFile string) error {
	bin, err := in.Tree.ReadFile(binary)
	if err != nil {
		return fmt.Errorf("%s --install: %w", binary, err)
	}
	paths, err := BusyboxApplets(bin)
	if err != nil {
		list, lerr := in.Tree.ReadFile(pathsFile)
		if lerr != nil {
			return fmt.Errorf("%s --install: %w, and no %s", binary, err, pathsFile)
		}
		paths = parseBusyboxPaths(list)
	}
	for _, p := range paths {
		if in.exists(p) {
			continue
		}
		if err := in.Tree.Symlink("/"+binary, p, fstree.Attr{Mode: 0o777}); err != nil {
			return fmt.Errorf("%s --install: %w", binary, err)
		}
	}
	return nil
}

// isBinPath matches the applet paths compiled into bbsuid:
// /bin/x, /sbin/x, /usr/bin/x, /usr/sbin/x with x of [a-z0-9].
func isBinPath(p string) bool {
	for _, dir := range []string{"/bin/", "/sbin/", "/usr/bin/", "/usr/sbin/"} {
		if name, ok := strings.CutPrefix(p, dir); ok && name != "" {
			for _, c := range []byte(name) {
				if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
					return false
				}
			}
			return true
		}
	}
	return false
}

// bbsuidInstall is `bbsuid --install` (busybox's trigger runs it when
// busybox-suid is installed): each setuid applet path bbsuid knows becomes
// a symlink to /bin/bbsuid, replacing a symlink but not a file. The list
// is read from the binary.
func (in *Installer) bbsuidInstall() error {
	bin, err := in.Tree.ReadFile("bin/bbsuid")
	if err != nil {
		return fmt.Errorf("bbsuid --install: %w", err)
	}
	for _, s := range bytes.Split(bin, []byte{0}) {
		p := string(s)
		if !isBinPath(p) || p == "/bin/busybox" || p == "/bin/bbsuid" {
			continue
		}
		rel := strings.TrimPrefix(p, "/")
		if info, err := in.Tree.Lookup(rel); err == nil {
			if info.Kind != fstree.KindSymlink {
				continue
			}
			if err := in.Tree.Remove(rel); err != nil {
				return fmt.Errorf("bbsuid --install: %w", err)
			}
		}
		if err := in.Tree.Symlink("/bin/bbsuid", rel, fstree.Attr{Mode: 0o777}); err != nil {
			return fmt.Errorf("bbsuid --install: %w", err)
		}
	}
	return nil
}
