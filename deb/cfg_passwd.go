package deb

import (
	"fmt"
	"strconv"
	"strings"
)

// Accounts. base-passwd's preinst writes /etc/passwd and /etc/group (from
// here-documents in the script) when they are missing, before any package
// is configured, and its postinst copies the master files if they are
// still missing. Without base-passwd (a custom package set) a minimal
// passwd, group and shadow with root and nobody are written instead, so
// that the image has the accounts every tool expects. --user accounts are
// added last, in both cases.

const (
	passwdFile = "etc/passwd"
	groupFile  = "etc/group"
	shadowFile = "etc/shadow"
)

// preinstBasePasswd writes the here-documents of the preinst.
func preinstBasePasswd(a *assembler, p *instPkg) error {
	script := string(p.script("preinst"))
	for _, f := range []string{passwdFile, groupFile} {
		if a.exists(f) {
			continue
		}
		if body, ok := heredoc(script, "/"+f); ok {
			if err := a.ensureDir("etc", 0o755); err != nil {
				return err
			}
			if err := a.t.WriteFile(f, []byte(body), a.attr(0o644)); err != nil {
				return err
			}
		}
	}
	return nil
}

// postinstBasePasswd copies the master files where nothing is yet.
func postinstBasePasswd(a *assembler, p *instPkg) error {
	for _, f := range []struct{ master, dst string }{
		{"usr/share/base-passwd/passwd.master", passwdFile},
		{"usr/share/base-passwd/group.master", groupFile},
	} {
		if a.exists(f.dst) || !a.isFile(f.master) {
			continue
		}
		data, err := a.t.ReadFile(f.master)
		if err != nil {
			return err
		}
		if err := a.t.WriteFile(f.dst, data, a.attr(0o644)); err != nil {
			return err
		}
	}
	return nil
}

// heredoc returns the body of `cat > "$DPKG_ROOT<path>" <<'EOF'` in a
// script. A body with expansions (an unquoted delimiter and a $ or `) is
// not literal and not returned.
func heredoc(script, path string) (string, bool) {
	lines := strings.Split(script, "\n")
	for i, l := range lines {
		before, delim, ok := strings.Cut(strings.TrimSpace(l), "<<")
		if !ok {
			continue
		}
		cmd, isCat := strings.CutPrefix(strings.TrimSpace(before), "cat")
		target, redirect := strings.CutPrefix(strings.TrimSpace(cmd), ">")
		words, _, lit := shellWords(strings.TrimSpace(target))
		if !isCat || !redirect || !lit || len(words) != 1 || words[0] != path {
			continue
		}
		quoted := strings.ContainsAny(delim, `'"`)
		delim = strings.Trim(strings.TrimPrefix(strings.TrimSpace(delim), "-"), `'"`)
		var b strings.Builder
		for _, body := range lines[i+1:] {
			if body == delim {
				s := b.String()
				if !quoted && strings.ContainsAny(s, "$`\\") {
					return "", false
				}
				return s, true
			}
			b.WriteString(body + "\n")
		}
	}
	return "", false
}

// account files as lines of colon-separated fields.
func (a *assembler) readAccounts(file string) [][]string {
	data, err := a.t.ReadFile(file)
	if err != nil {
		return nil
	}
	var out [][]string
	for _, l := range strings.Split(string(data), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, strings.Split(l, ":"))
		}
	}
	return out
}

// lookupUser maps a user name (or number) to its uid via /etc/passwd.
func (a *assembler) lookupUser(name string) (int, error) {
	return a.lookupID(passwdFile, name)
}

// lookupGroup maps a group name (or number) to its gid via /etc/group.
func (a *assembler) lookupGroup(name string) (int, error) {
	return a.lookupID(groupFile, name)
}

func (a *assembler) lookupID(file, name string) (int, error) {
	if n, err := strconv.Atoi(name); err == nil {
		return n, nil
	}
	if name == "root" {
		return 0, nil
	}
	for _, f := range a.readAccounts(file) {
		if len(f) >= 3 && f[0] == name {
			return strconv.Atoi(f[2])
		}
	}
	// Without base-passwd the account files are minimal: a system
	// account the scripts need gets its id from base-passwd's static
	// allocation, the same on Debian and Ubuntu, and is added.
	table, line := staticGroups, "%s:x:%d:"
	if file == passwdFile {
		table, line = staticUsers, "%s:x:%d:%d:%s:/nonexistent:/usr/sbin/nologin"
	}
	id, ok := table[name]
	if !ok || a.has("base-passwd") {
		return 0, fmt.Errorf("no %q in /%s", name, file)
	}
	entry := fmt.Sprintf(line, name, id)
	if file == passwdFile {
		entry = fmt.Sprintf(line, name, id, id, name)
	}
	if err := a.appendLine(file, entry); err != nil {
		return 0, err
	}
	return id, nil
}

// staticUsers and staticGroups are base-passwd's fixed allocation.
var (
	staticUsers = map[string]int{"daemon": 1, "bin": 2, "sys": 3, "sync": 4, "games": 5, "man": 6, "lp": 7,
		"mail": 8, "news": 9, "uucp": 10, "proxy": 13, "www-data": 33, "backup": 34, "list": 38, "irc": 39, "_apt": 42}
	staticGroups = map[string]int{"daemon": 1, "bin": 2, "sys": 3, "adm": 4, "tty": 5, "disk": 6, "lp": 7,
		"mail": 8, "news": 9, "uucp": 10, "man": 12, "proxy": 13, "kmem": 15, "dialout": 20, "fax": 21,
		"voice": 22, "cdrom": 24, "floppy": 25, "tape": 26, "sudo": 27, "audio": 29, "dip": 30, "www-data": 33,
		"backup": 34, "operator": 37, "list": 38, "irc": 39, "src": 40, "shadow": 42, "utmp": 43, "video": 44,
		"sasl": 45, "plugdev": 46, "staff": 50, "games": 60, "users": 100}
)

// ensureAccounts writes a minimal passwd, group and shadow when no package
// provided the files.
func (a *assembler) ensureAccounts() error {
	if err := a.ensureDir("etc", 0o755); err != nil {
		return err
	}
	shell := "/bin/sh"
	if a.exists("bin/bash") {
		shell = "/bin/bash"
	}
	if !a.exists(passwdFile) {
		body := "root:x:0:0:root:/root:" + shell + "\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
		if err := a.t.WriteFile(passwdFile, []byte(body), a.attr(0o644)); err != nil {
			return err
		}
		if !a.exists(shadowFile) {
			day := a.epoch().Unix() / 86400
			body := fmt.Sprintf("root:*:%d:0:99999:7:::\nnobody:*:%d:0:99999:7:::\n", day, day)
			attr := a.attr(0o640)
			attr.GID, attr.Gname = 42, "shadow"
			if err := a.t.WriteFile(shadowFile, []byte(body), attr); err != nil {
				return err
			}
		}
	}
	if !a.exists(groupFile) {
		body := "root:x:0:\nshadow:x:42:\nnogroup:x:65534:\n"
		if err := a.t.WriteFile(groupFile, []byte(body), a.attr(0o644)); err != nil {
			return err
		}
	}
	if !a.exists("root") {
		if err := a.t.MkdirAll("root", a.attr(0o700)); err != nil {
			return err
		}
	}
	return nil
}
