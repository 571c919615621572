package deb

import (
	"fmt"
	"strconv"
	"strings"
)

// base-files: the preinst adds DEP17 protective diversions of the
// merged-/usr directories (noble); the postinst, on a fresh install,
// links etc/dpkg/origins/default, copies the default dot files, profile,
// motd or networks from /usr/share/base-files, makes /mnt, /srv, /opt,
// /media, /var/mail, /run/lock, /usr/local/*, the /var/run and /var/lock
// links and the login records in /var/log. Releases differ in which of
// these they do, so the built-in reads the calls of the script's own
// helper functions (install_from_default, install_directory, ...) from its
// fresh-install branch and performs them.

// preinstBaseFiles adds the protective diversions a noble-style preinst
// adds: "dpkg-divert --package base-files --add --no-rename --divert
// /$d.usr-is-merged /$d" for every $d of USR_MERGE.
func preinstBaseFiles(a *assembler, p *instPkg) error {
	script := string(p.script("preinst"))
	if !strings.Contains(script, ".usr-is-merged") || !strings.Contains(script, "dpkg-divert") {
		return nil
	}
	list, ok := shellAssignment(script, "USR_MERGE")
	if !ok {
		a.warn(p.name, "base-files: preinst diverts the merged-/usr directories but its list was not understood; no diversions recorded")
		return nil
	}
	for _, d := range strings.Fields(list) {
		a.divs.add("/"+d, "/"+d+".usr-is-merged", "base-files")
	}
	return nil
}

// postinstBaseFiles does the fresh-install branch of the postinst.
func postinstBaseFiles(a *assembler, p *instPkg) error {
	script := string(p.script("postinst"))
	for _, args := range shellCommands(script, "ln") {
		if len(args) == 3 && args[0] == "-sf" && strings.HasSuffix(args[2], "/etc/dpkg/origins/default") {
			if !a.exists("etc/dpkg/origins/default") && a.exists("etc/dpkg/origins/"+args[1]) {
				if err := a.replaceSymlink(args[1], "etc/dpkg/origins/default"); err != nil {
					return err
				}
			}
		}
	}
	region := shellRegion(script, `if [ "$1" = "configure" ] && [ "$2" = "" ]; then`)
	if region == "" {
		a.warn(p.name, "base-files: the fresh-install branch of its postinst was not found; /etc/profile, /root's dot files and the base directories may be missing")
	}
	if err := a.baseFilesCalls(p, region); err != nil {
		return err
	}
	// The info directory file, outside the fresh-install branch.
	if a.isDir("usr/share/info") && !a.isFile("usr/info/dir") && !a.isFile("usr/share/info/dir") &&
		a.isFile("usr/share/base-files/info.dir") {
		if err := a.copyFile("usr/share/base-files/info.dir", "usr/share/info/dir"); err != nil {
			return err
		}
		return a.t.Chmod("usr/share/info/dir", 0o644)
	}
	return nil
}

// shellRegion returns the lines after the line opener up to the first
// line that is just "fi".
func shellRegion(script, opener string) string {
	lines := strings.Split(script, "\n")
	for i, l := range lines {
		if strings.TrimSpace(l) != opener {
			continue
		}
		var b strings.Builder
		for _, l := range lines[i+1:] {
			if l == "fi" {
				return b.String()
			}
			b.WriteString(l + "\n")
		}
	}
	return ""
}

// baseFilesCalls performs the helper calls of a base-files script region.
func (a *assembler) baseFilesCalls(p *instPkg, region string) error {
	for _, line := range strings.Split(region, "\n") {
		if f, ok := emptyRedirect(strings.TrimSpace(line)); ok {
			// "echo -n>/var/log/wtmp" under "if [ ! -f ... ]" (jammy)
			if err := a.touch(f, 0o644, 0, 0); err != nil {
				return err
			}
			continue
		}
		words, _, ok := shellWords(strings.TrimSpace(line))
		if !ok || len(words) == 0 {
			continue
		}
		var err error
		switch cmd, args := words[0], words[1:]; {
		case cmd == "install_from_default" && len(args) == 2:
			err = a.copyIfMissing("usr/share/base-files/"+args[0], args[1])
		case cmd == "install_directory" && len(args) == 3:
			err = a.installDirectory(args[0], args[1], args[2])
		case cmd == "install_local_dir" && len(args) == 1:
			err = a.installLocalDir(args[0])
		case cmd == "migrate_directory" && len(args) == 2:
			if !a.isLink(args[0]) {
				if err = a.t.Remove(args[0]); err == nil {
					err = a.t.Symlink(args[1], args[0], a.attr(0o777))
				}
			}
		case cmd == "ensure_file_owner_mode" && len(args) == 3:
			err = a.ensureFileOwnerMode(args[0], args[1], args[2])
		case cmd == "ln":
			err = a.ln(args)
		case cmd == "chown" && len(args) >= 2:
			err = a.chownAll(args[0], args[1:])
		case cmd == "chmod" && len(args) >= 2:
			err = a.chmodAll(args[0], args[1:])
		}
		if err != nil {
			return fmt.Errorf("%s: %w", strings.TrimSpace(line), err)
		}
	}
	return nil
}

// installDirectory is base-files' install_directory: mkdir, chown
// root:group, chmod, unless the directory exists.
func (a *assembler) installDirectory(dir, mode, group string) error {
	if a.isDir(dir) {
		return nil
	}
	m, err := strconv.ParseUint(mode, 8, 32)
	if err != nil {
		return fmt.Errorf("mode %q: %w", mode, err)
	}
	gid, err := a.lookupGroup(group)
	if err != nil {
		return err
	}
	attr := a.attr(uint32(m))
	attr.GID, attr.Gname = gid, ""
	return a.t.Mkdir(dir, attr)
}

// installLocalDir is install_local_dir: mkdir -p, and root:staff 2775
// when /etc/staff-group-for-usr-local exists.
func (a *assembler) installLocalDir(dir string) error {
	if err := a.ensureDir(dir, 0o755); err != nil {
		return err
	}
	if a.exists("etc/staff-group-for-usr-local") {
		if gid, err := a.lookupGroup("staff"); err == nil {
			if err := a.t.Lchown(dir, 0, gid); err != nil {
				return err
			}
			return a.t.Chmod(dir, 0o2775)
		}
	}
	return nil
}

// ensureFileOwnerMode creates an empty file if missing, then chowns and
// chmods it.
func (a *assembler) ensureFileOwnerMode(file, owner, mode string) error {
	m, err := strconv.ParseUint(mode, 8, 32)
	if err != nil {
		return fmt.Errorf("mode %q: %w", mode, err)
	}
	user, group, _ := strings.Cut(owner, ":")
	uid, err := a.lookupUser(user)
	if err != nil {
		return err
	}
	gid, err := a.lookupGroup(group)
	if err != nil {
		return err
	}
	if !a.isFile(file) {
		if err := a.t.WriteFile(file, nil, a.attr(uint32(m))); err != nil {
			return err
		}
	}
	if err := a.t.Lchown(file, uid, gid); err != nil {
		return err
	}
	return a.t.Chmod(file, uint32(m))
}

// ln is ln [-s] [-f] [-n] target name, for symlinks only. Without -f an
// existing name is left alone (the scripts guard such calls).
func (a *assembler) ln(args []string) error {
	force, sym := false, false
	var rest []string
	for _, arg := range args {
		if strings.HasPrefix(arg, "-") && len(rest) == 0 {
			force = force || strings.Contains(arg, "f")
			sym = sym || strings.Contains(arg, "s")
			continue
		}
		rest = append(rest, arg)
	}
	if !sym || len(rest) != 2 {
		return nil
	}
	target, name := rest[0], rest[1]
	if a.isDir(name) && !a.isLink(name) {
		name = strings.TrimSuffix(name, "/") + "/" + target[strings.LastIndexByte(target, '/')+1:]
	}
	if force {
		return a.replaceSymlink(target, name)
	}
	return a.symlinkIfMissing(target, name)
}

// emptyRedirect matches "echo -n>FILE", "echo -n > FILE" and ": > FILE".
func emptyRedirect(line string) (string, bool) {
	for _, prefix := range []string{"echo -n", ":"} {
		rest, ok := strings.CutPrefix(line, prefix)
		if !ok {
			continue
		}
		target, ok := strings.CutPrefix(strings.TrimSpace(rest), ">")
		if !ok {
			continue
		}
		words, _, lit := shellWords(strings.TrimSpace(target))
		if lit && len(words) == 1 && strings.HasPrefix(words[0], "/") {
			return words[0], true
		}
	}
	return "", false
}

// chownAll is chown USER[:GROUP] FILE... on existing files.
func (a *assembler) chownAll(owner string, files []string) error {
	user, group, hasGroup := strings.Cut(owner, ":")
	uid, err := a.lookupUser(user)
	if err != nil {
		return err
	}
	for _, f := range files {
		i, err := a.t.Lookup(f)
		if err != nil {
			return err
		}
		gid := i.GID
		if hasGroup {
			if gid, err = a.lookupGroup(group); err != nil {
				return err
			}
		}
		if err := a.t.Lchown(f, uid, gid); err != nil {
			return err
		}
	}
	return nil
}

// chmodAll is chmod OCTAL FILE... on existing files.
func (a *assembler) chmodAll(mode string, files []string) error {
	m, err := strconv.ParseUint(mode, 8, 32)
	if err != nil {
		return fmt.Errorf("mode %q: %w", mode, err)
	}
	for _, f := range files {
		if err := a.t.Chmod(f, uint32(m)); err != nil {
			return err
		}
	}
	return nil
}
