package check

import (
	"bufio"
	"bytes"
	"io/fs"
	"path"
	"strconv"
	"strings"
)

// defaultPath is the PATH runc and podman give a container without one.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// checkEntrypoint resolves the program the image runs, as the runtime
// does: an absolute path, or a name looked up in the image's PATH.
func (c *checker) checkEntrypoint(cfg *ImageConfig) {
	argv := append(append([]string(nil), cfg.Entrypoint...), cfg.Cmd...)
	if len(argv) == 0 || argv[0] == "" {
		return
	}
	prog := argv[0]
	real, fi, found := c.lookPath(cfg, prog)
	if !found {
		c.add(Finding{Kind: MissingEntrypoint, Severity: Error, Missing: prog,
			Hint: "add the program with files: in the spec (or --add SRC:DEST:0755), or fix entrypoint/cmd"}, "")
		return
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		c.add(Finding{Kind: NotExecutable, Severity: Error, Missing: prog,
			Hint: "give it mode 0755 (files: mode in the spec, or --add SRC:DEST:0755)"}, "")
		return
	}
	interp := shebang(c.fsys, real)
	if interp == "" {
		return
	}
	if _, ifi, ok := stat(c.fsys, interp); !ok || !ifi.Mode().IsRegular() {
		c.add(Finding{Kind: MissingScriptInterpreter, Severity: Error, Missing: interp}, real)
	}
}

// lookPath finds prog in the tree: absolute paths directly, other names
// with a slash relative to the working directory, bare names through PATH.
func (c *checker) lookPath(cfg *ImageConfig, prog string) (string, fs.FileInfo, bool) {
	switch {
	case strings.HasPrefix(prog, "/"):
		return stat(c.fsys, prog)
	case strings.Contains(prog, "/"):
		wd := cfg.WorkingDir
		if wd == "" {
			wd = "/"
		}
		return stat(c.fsys, path.Join(wd, prog))
	}
	p, ok := envValue(cfg.Env, "PATH")
	if !ok {
		p = defaultPath
	}
	for _, dir := range strings.Split(p, ":") {
		if !strings.HasPrefix(dir, "/") {
			continue
		}
		if real, fi, ok := stat(c.fsys, path.Join(dir, prog)); ok && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return real, fi, true
		}
	}
	return "", nil, false
}

// shebang returns the interpreter of a script, or "".
func shebang(fsys fs.FS, real string) string {
	f, err := fsys.Open(real)
	if err != nil {
		return ""
	}
	defer f.Close()
	buf := make([]byte, 256)
	n, _ := f.Read(buf)
	buf = buf[:n]
	if !bytes.HasPrefix(buf, []byte("#!")) {
		return ""
	}
	line, _, _ := bytes.Cut(buf[2:], []byte("\n"))
	fields := strings.Fields(string(line))
	if len(fields) == 0 || !strings.HasPrefix(fields[0], "/") {
		return ""
	}
	return fields[0]
}

// checkUser looks the image's User up the way the runtime does: names must
// be in /etc/passwd and /etc/group; numeric ids work without an entry but
// leave HOME at "/".
func (c *checker) checkUser(cfg *ImageConfig) {
	if cfg.User == "" {
		return
	}
	user, group, _ := strings.Cut(cfg.User, ":")
	hint := "add the account with --add-user NAME[:UID] or accounts.users in the spec"
	passwd := readSmall(c.fsys, "/etc/passwd", maxConfSize)
	var fix []string
	if passwd == nil {
		fix = Candidates(c.opts.Family, Need{Kind: NeedFile, Name: "passwd", Path: "/etc/passwd"})
	}
	if user != "" && !isNumber(user) && !hasEntry(passwd, user, 0) {
		c.add(Finding{Kind: UnknownUser, Severity: Error, Missing: user, Hint: hint, Fix: fix, Guessed: len(fix) > 0}, "")
	}
	if isNumber(user) && user != "0" && !hasEntry(passwd, user, 2) {
		c.add(Finding{Kind: UnknownUser, Severity: Warning, Missing: user, Hint: "programs that look up the current user will fail and HOME is /; " + hint}, "")
	}
	if group != "" && !isNumber(group) {
		groups := readSmall(c.fsys, "/etc/group", maxConfSize)
		if !hasEntry(groups, group, 0) {
			c.add(Finding{Kind: UnknownGroup, Severity: Error, Missing: group, Hint: "add the group with accounts.groups in the spec"}, "")
		}
	}
}

// hasEntry reports whether a passwd or group file has a line whose field
// number field equals value.
func hasEntry(data []byte, value string, field int) bool {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Split(sc.Text(), ":")
		if len(f) > field && f[field] == value {
			return true
		}
	}
	return false
}

func isNumber(s string) bool {
	_, err := strconv.ParseUint(s, 10, 32)
	return err == nil
}
