package deb

import (
	"fmt"
	"path"
	"strings"

	"github.com/rootfsd/rootfsd/repo/fstree"
)

// usrmerge's postinst converts a split-/usr tree: every entry of /bin,
// /sbin, /lib, /lib32, /lib64, /libo32 and /libx32 moves below /usr (a
// copy, which breaks hard links, replaced by a symlink to the copy;
// symlinks last, once their targets moved), then each directory becomes a
// relative symlink (bin -> usr/bin), then update-shells and
// convert-etc-shells add the /usr spellings of the shells to /etc/shells.
// This is bookworm's way to merged-/usr; noble's base-files ships the
// links, jammy stays split. The conversion here follows convert-usrmerge
// case by case, failing where it fails.

var usrmergeDirs = []string{"bin", "sbin", "lib", "lib32", "lib64", "libo32", "libx32"}

// postinstUsrmerge is usrmerge's postinst on configure.
func postinstUsrmerge(a *assembler, p *instPkg) error {
	if data, err := a.t.ReadFile("etc/unsupported-skip-usrmerge-conversion"); err == nil &&
		strings.Contains(string(data), "this system will not be supported in the future") {
		a.warn(p.name, "usrmerge: /etc/unsupported-skip-usrmerge-conversion exists, the tree stays split-/usr")
		return nil
	}
	if a.isMerged() {
		return nil
	}
	if err := a.convertUsrmerge(); err != nil {
		return fmt.Errorf("usrmerge conversion: %w", err)
	}
	if a.exists("usr/sbin/update-shells") {
		if err := a.updateShells(); err != nil {
			return err
		}
	}
	return a.convertEtcShells()
}

// isMerged is the postinst's is_merged.
func (a *assembler) isMerged() bool {
	for _, d := range usrmergeDirs {
		if !a.exists(d) {
			continue
		}
		real := a.realpath(d)
		if d == "bin" || d == "sbin" || d == "lib" {
			if real != "/usr/"+d {
				return false
			}
		} else if !strings.HasPrefix(real, "/usr/lib") {
			return false
		}
	}
	return true
}

// convertUsrmerge is convert-usrmerge's main block.
func (a *assembler) convertUsrmerge() error {
	for _, d := range usrmergeDirs {
		if !a.exists("usr/"+d) && a.isDir(d) {
			if err := a.t.Mkdir("usr/"+d, a.attr(0o755)); err != nil {
				return err
			}
		}
	}
	var later []string
	for _, d := range usrmergeDirs {
		if a.isLink(d) || !a.isDir(d) {
			continue
		}
		for _, name := range a.readDir(d) {
			if err := a.convertFile(d+"/"+name, &later); err != nil {
				return err
			}
		}
	}
	for _, n := range later {
		if err := a.convertFile(n, nil); err != nil {
			return err
		}
	}
	for _, d := range usrmergeDirs {
		if err := a.verifyLinksOnly(d); err != nil {
			return err
		}
	}
	for _, d := range usrmergeDirs {
		switch {
		case a.isLink(d):
		case !a.isDir(d):
			if a.exists("usr/" + d) {
				if err := a.t.Symlink("usr/"+d, d, a.attr(0o777)); err != nil {
					return err
				}
			}
		default:
			if err := a.t.RemoveAll(d); err != nil {
				return err
			}
			if err := a.t.Symlink("usr/"+d, d, a.attr(0o777)); err != nil {
				return err
			}
		}
	}
	return nil
}

// convertFile is convert-usrmerge's convert_file for the path n (relative
// to the root, "bin/ls"); later collects symlinks to convert last.
func (a *assembler) convertFile(n string, later *[]string) error {
	u := "usr/" + n
	abs, absU := "/"+n, "/"+u
	if a.isLink(n) && !a.exists(n) && a.exists(u) {
		a.warn("usrmerge", fmt.Sprintf("usrmerge: %s is a broken symlink and has been renamed", abs))
		return a.t.Rename(n, n+".usrmerge-broken")
	}
	if a.isLink(u) && !a.exists(u) {
		a.warn("usrmerge", fmt.Sprintf("usrmerge: %s is a broken symlink and has been renamed", absU))
		if err := a.t.Rename(u, u+".usrmerge-broken"); err != nil {
			return err
		}
	}
	if a.isDir(n) && !a.exists(u) {
		if err := a.t.Rename(n, u); err != nil {
			return err
		}
		return a.t.Symlink(absU, n, a.attr(0o777))
	}
	if a.isLink(n) && !a.exists(u) && later != nil {
		*later = append(*later, n)
		return nil
	}
	if !a.exists(u) {
		return a.moveAndLink(n, u)
	}
	nLink, uLink := a.isLink(n), a.isLink(u)
	switch {
	case nLink && uLink:
		l1, l2 := a.readlink(n), a.readlink(u)
		base := path.Dir(abs)
		if l1 == l2 || base+"/"+l1 == l2 || l1 == "/usr"+base+"/"+l2 || l1 == absU {
			return nil
		}
		if l2 == abs {
			target := a.realpath(n)
			if err := a.replaceSymlink(target, u); err != nil {
				return err
			}
			return a.replaceSymlink(target, n)
		}
	case nLink:
		if a.readlink(n) == absU {
			return nil
		}
	case uLink:
		if a.readlink(u) == abs {
			return a.moveAndLink(n, u)
		}
	case a.isDir(n) && a.isDir(u):
		for _, name := range a.readDir(n) {
			if err := a.convertFile(n+"/"+name, later); err != nil {
				return err
			}
		}
		return nil
	case a.isDir(n):
		return fmt.Errorf("%s is a directory and %s is not", abs, absU)
	case a.isDir(u):
		return fmt.Errorf("%s is a directory and %s is not", absU, abs)
	case n == "lib/udev/hwdb.bin":
		return a.t.Remove(n)
	}
	return fmt.Errorf("both %s and %s exist", abs, absU)
}

// moveAndLink is "cp --no-dereference --preserve=all n u" followed by
// replacing n with a symlink to /u. A copy is a new file: hard links
// between converted files are not kept, as with cp.
func (a *assembler) moveAndLink(n, u string) error {
	i, err := a.t.Lookup(n)
	if err != nil {
		return err
	}
	if l, err := a.t.Lookup(u); err == nil && l.Kind != fstree.KindDir {
		if err := a.t.Remove(u); err != nil {
			return err
		}
	}
	switch i.Kind {
	case fstree.KindFile:
		data, err := a.t.ReadFile(n)
		if err != nil {
			return err
		}
		if err := a.t.WriteFile(u, data, i.Attr); err != nil {
			return err
		}
	default:
		if err := a.t.Rename(n, u); err != nil {
			return err
		}
	}
	if a.lexists(n) {
		if err := a.t.Remove(n); err != nil {
			return err
		}
	}
	return a.t.Symlink("/"+u, n, a.attr(0o777))
}

// verifyLinksOnly is convert-usrmerge's safety check: nothing but
// symlinks and directories may be left in a directory about to go.
func (a *assembler) verifyLinksOnly(d string) error {
	if a.isLink(d) || !a.isDir(d) {
		return nil
	}
	var bad string
	_ = a.t.Walk(func(i fstree.Info) error {
		if bad != "" || !strings.HasPrefix(i.Path, d+"/") {
			return nil
		}
		if i.Kind != fstree.KindDir && i.Kind != fstree.KindSymlink {
			bad = i.Path
		}
		return nil
	})
	if bad != "" {
		return fmt.Errorf("/%s is not a symlink: the conversion has failed", bad)
	}
	return nil
}

// readlink returns a symlink's target, "" for anything else.
func (a *assembler) readlink(p string) string {
	i, err := a.t.Lookup(p)
	if err != nil || i.Kind != fstree.KindSymlink {
		return ""
	}
	return i.Target
}
