package deb

import (
	"path"
	"regexp"
	"strings"
)

// /etc/shells: debianutils' update-shells merges the packaged shells
// (/usr/share/debianutils/shells and shells.d/*) with the file, adding for
// each shell its spelling with the directory resolved (/bin/sh ->
// /usr/bin/sh on merged-/usr) and keeping local additions; it records
// what it added in /var/lib/shells.state so that removed packages' shells
// go again. usrmerge's convert-etc-shells adds the /usr spelling of every
// /bin and /sbin shell.

const (
	shellsFile     = "etc/shells"
	shellsState    = "var/lib/shells.state"
	shellsTemplate = "usr/share/debianutils/shells"
	shellsDir      = "usr/share/debianutils/shells.d"
)

// postinstDebianutils is debianutils' postinst on a fresh configure.
func postinstDebianutils(a *assembler, p *instPkg) error {
	if !a.isFile(shellsFile) && a.isFile(shellsTemplate) {
		if err := a.copyFile(shellsTemplate, shellsFile); err != nil {
			return err
		}
	}
	if err := a.updateShells(); err != nil {
		return err
	}
	if err := a.scriptAlternatives(p); err != nil {
		return err
	}
	if strings.Contains(string(p.script("postinst")), "clean_symlinks") {
		for _, l := range []string{"usr/bin/run-parts", "bin/tmpfile", "usr/bin/tmpfile", "usr/sbin/installkernel"} {
			if a.isLink(l) {
				if err := a.t.Remove(l); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// shellsOf reads the shells of a file as update-shells does: the text
// before the first '#' of each line, empty ones skipped.
func shellsOf(data string) []string {
	var out []string
	for _, line := range strings.Split(data, "\n") {
		line, _, _ = strings.Cut(line, "#")
		if line != "" {
			out = append(out, line)
		}
	}
	return out
}

// updateShells is update-shells. Older releases (jammy's debianutils
// 5.5) read only shells.d, resolve the whole path of a shell rather than
// its directory, and keep duplicate lines; the tree's own update-shells
// tells which one the image has.
func (a *assembler) updateShells() error {
	script, _ := a.t.ReadFile("usr/sbin/update-shells")
	legacy := len(script) > 0 && !strings.Contains(string(script), "TEMPLATE_ETC_FILE")
	source := shellsFile
	if !a.exists(shellsFile) {
		source = shellsTemplate
	}
	var pkgShells []string
	var files []string
	if !legacy {
		files = append(files, shellsTemplate)
	}
	for _, name := range a.readDir(shellsDir) {
		files = append(files, shellsDir+"/"+name)
	}
	for _, f := range files {
		if !a.isFile(f) {
			continue
		}
		data, _ := a.t.ReadFile(f)
		for _, line := range shellsOf(string(data)) {
			pkgShells = append(pkgShells, line)
			var real string
			if legacy {
				real = a.realpath(line)
			} else {
				real = a.realpath(path.Dir(line))
				if !a.exists(path.Dir(line)) {
					real = ""
				}
				real = strings.TrimSuffix(real, "/") + "/" + path.Base(line)
			}
			if real != line {
				pkgShells = append(pkgShells, real)
			}
		}
	}
	inPkg, inState, inEtc := set(pkgShells), map[string]bool{}, map[string]bool{}
	if data, err := a.t.ReadFile(shellsState); err == nil {
		inState = set(shellsOf(string(data)))
	}
	var etc strings.Builder
	if data, err := a.t.ReadFile(source); err == nil {
		for _, line := range strings.SplitAfter(string(data), "\n") {
			if line == "" {
				continue
			}
			line = strings.TrimSuffix(line, "\n")
			shell, _, _ := strings.Cut(line, "#")
			if shell == "" || inPkg[shell] || !inState[shell] {
				if legacy || shell == "" || !inEtc[shell] {
					etc.WriteString(line + "\n")
					inEtc[shell] = true
				}
			}
		}
	}
	var state strings.Builder
	for _, shell := range pkgShells {
		state.WriteString(shell + "\n")
		if !inEtc[shell] && !inState[shell] {
			etc.WriteString(shell + "\n")
		}
	}
	stateMode := uint32(0o644)
	if i, err := a.t.Stat(shellsState); err == nil {
		stateMode = i.Mode
	}
	etcAttr := a.attr(0o644)
	if i, err := a.t.Stat(source); err == nil {
		etcAttr.Mode, etcAttr.UID, etcAttr.GID = i.Mode, i.UID, i.GID
	}
	if err := a.ensureDir(path.Dir(shellsState), 0o755); err != nil {
		return err
	}
	if err := a.replaceFile(shellsFile, []byte(etc.String()), etcAttr.Mode, etcAttr.UID, etcAttr.GID); err != nil {
		return err
	}
	return a.replaceFile(shellsState, []byte(state.String()), stateMode, 0, 0)
}

// addShells runs the "add-shell PATH" calls of a postinst (jammy's bash
// and dash) when the image has add-shell: each shell, and its spelling
// with the directory resolved, is appended to /etc/shells unless there.
func (a *assembler) addShells(p *instPkg) error {
	calls := shellCommands(string(p.script("postinst")), "add-shell")
	if len(calls) == 0 || !a.exists("usr/sbin/add-shell") || !a.isFile(shellsFile) {
		return nil
	}
	data, err := a.t.ReadFile(shellsFile)
	if err != nil {
		return err
	}
	have := set(strings.Split(string(data), "\n"))
	if len(data) > 0 && data[len(data)-1] != '\n' {
		data = append(data, '\n')
	}
	for _, args := range calls {
		for _, sh := range args {
			real := path.Join(path.Dir(a.realpath(sh)), path.Base(sh))
			for _, s := range []string{sh, real} {
				if !have[s] {
					data = append(data, s+"\n"...)
					have[s] = true
				}
			}
		}
	}
	return a.writeFile(shellsFile, data, 0o644)
}

var usrShell = regexp.MustCompile(`^/usr(/s?bin/.+)`)

// convertEtcShells is usrmerge's convert-etc-shells.
func (a *assembler) convertEtcShells() error {
	data, err := a.t.ReadFile(shellsFile)
	if err != nil {
		return nil // the script dies; without /etc/shells there is nothing to convert
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	seen := map[string]bool{}
	var nonUsr []string
	for _, l := range lines {
		if m := usrShell.FindStringSubmatch(l); m != nil {
			seen[m[1]] = true
		}
		if strings.HasPrefix(l, "/bin/") || strings.HasPrefix(l, "/sbin/") {
			nonUsr = append(nonUsr, l)
		}
	}
	var add []string
	for _, s := range nonUsr {
		if !seen[s] {
			add = append(add, "/usr"+s)
		}
	}
	if len(add) == 0 {
		return nil
	}
	out := strings.Join(append(lines, add...), "\n") + "\n"
	return a.replaceFile(shellsFile, []byte(out), 0o644, 0, 0)
}

// replaceFile writes p as a new file (a rename over the old one).
func (a *assembler) replaceFile(p string, data []byte, mode uint32, uid, gid int) error {
	attr := a.attr(mode)
	if uid != 0 || gid != 0 {
		attr.UID, attr.GID, attr.Uname, attr.Gname = uid, gid, "", ""
	}
	if a.lexists(p) && !a.isDir(p) {
		if err := a.t.Remove(p); err != nil {
			return err
		}
	}
	return a.t.WriteFile(p, data, attr)
}

func set(l []string) map[string]bool {
	m := make(map[string]bool, len(l))
	for _, s := range l {
		m[s] = true
	}
	return m
}
