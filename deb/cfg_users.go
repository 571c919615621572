package deb

import (
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/rootfsd/rootfsd/repo/fstree"
)

// --user NAME[:UID]: an account with its own group, a home directory in
// /home (mode 0750, with the files of /etc/skel) and the login shell bash
// when the image has it, /bin/sh otherwise. Without a UID the first free
// one from 1000 is taken, as adduser does; the group gets the same number
// when it is free.

type userSpec struct {
	name string
	uid  int // -1: choose
}

var userName = regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,31}$`)

// parseUsers checks --user values.
func parseUsers(specs []string) ([]userSpec, error) {
	var out []userSpec
	seen := map[string]bool{}
	for _, s := range specs {
		name, uidStr, hasUID := strings.Cut(s, ":")
		if !userName.MatchString(name) {
			return nil, fmt.Errorf("--user %q: the name must match %s", s, userName)
		}
		u := userSpec{name: name, uid: -1}
		if hasUID {
			n, err := strconv.Atoi(uidStr)
			if err != nil || n < 0 || n >= 1<<31-1 {
				return nil, fmt.Errorf("--user %q: the uid must be a number from 0 to 2147483646", s)
			}
			u.uid = n
		}
		if seen[name] {
			return nil, fmt.Errorf("--user %q: given twice", name)
		}
		seen[name] = true
		out = append(out, u)
	}
	return out, nil
}

// addUsers adds the --user accounts.
func (a *assembler) addUsers() error {
	for _, u := range a.users {
		if err := a.addUser(u); err != nil {
			return fmt.Errorf("--user %s: %w", u.name, err)
		}
	}
	return nil
}

func (a *assembler) addUser(u userSpec) error {
	users, groups := a.readAccounts(passwdFile), a.readAccounts(groupFile)
	taken := func(list [][]string, id int) bool {
		for _, f := range list {
			if len(f) >= 3 && f[2] == strconv.Itoa(id) {
				return true
			}
		}
		return false
	}
	for _, f := range users {
		if f[0] == u.name {
			return fmt.Errorf("the account already exists in /etc/passwd")
		}
	}
	for _, f := range groups {
		if f[0] == u.name {
			return fmt.Errorf("a group of that name already exists in /etc/group")
		}
	}
	uid := u.uid
	if uid < 0 {
		for uid = 1000; taken(users, uid); uid++ {
		}
	} else if taken(users, uid) {
		return fmt.Errorf("uid %d is taken", uid)
	}
	gid := uid
	for taken(groups, gid) {
		gid++
	}
	shell := "/bin/sh"
	if a.exists("bin/bash") {
		shell = "/bin/bash"
	}
	pw := "*"
	hasShadow := a.exists(shadowFile)
	if hasShadow {
		pw = "x"
	}
	home := "/home/" + u.name
	if err := a.appendLine(passwdFile, fmt.Sprintf("%s:%s:%d:%d::%s:%s", u.name, pw, uid, gid, home, shell)); err != nil {
		return err
	}
	if err := a.appendLine(groupFile, fmt.Sprintf("%s:%s:%d:", u.name, pw, gid)); err != nil {
		return err
	}
	if hasShadow {
		day := a.epoch().Unix() / 86400
		if err := a.appendLine(shadowFile, fmt.Sprintf("%s:*:%d:0:99999:7:::", u.name, day)); err != nil {
			return err
		}
	}
	if a.exists("etc/gshadow") {
		if err := a.appendLine("etc/gshadow", u.name+":!::"); err != nil {
			return err
		}
	}
	return a.makeHome(home, uid, gid)
}

// appendLine adds a line to an account file, keeping its metadata.
func (a *assembler) appendLine(file, line string) error {
	i, err := a.t.Stat(file)
	if err != nil {
		return err
	}
	data, err := a.t.ReadFile(file)
	if err != nil {
		return err
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		data = append(data, '\n')
	}
	attr := i.Attr
	attr.Owner = ""
	return a.t.WriteFile(file, append(data, line+"\n"...), attr)
}

// makeHome creates the home directory with copies of /etc/skel.
func (a *assembler) makeHome(home string, uid, gid int) error {
	if err := a.ensureDir("home", 0o755); err != nil {
		return err
	}
	if a.exists(home) {
		return nil
	}
	own := func(mode uint32) fstree.Attr {
		at := a.attr(mode)
		at.UID, at.GID, at.Uname, at.Gname = uid, gid, "", ""
		return at
	}
	if err := a.t.Mkdir(home, own(0o750)); err != nil {
		return err
	}
	skel, err := a.t.Stat("etc/skel")
	if err != nil || skel.Kind != fstree.KindDir {
		return nil
	}
	var copies []fstree.Info
	_ = a.t.Walk(func(i fstree.Info) error {
		rel, ok := strings.CutPrefix(i.Path, skel.Path+"/")
		if !ok {
			if i.Kind == fstree.KindDir && i.Path != "." && !strings.HasPrefix(skel.Path+"/", i.Path+"/") {
				return fs.SkipDir
			}
			return nil
		}
		i.Path = rel
		copies = append(copies, i)
		return nil
	})
	for _, i := range copies {
		dst := path.Join(home, i.Path)
		var err error
		switch i.Kind {
		case fstree.KindDir:
			err = a.t.Mkdir(dst, own(i.Mode))
		case fstree.KindFile:
			var data []byte
			if data, err = a.t.ReadFile(path.Join(skel.Path, i.Path)); err == nil {
				err = a.t.WriteFile(dst, data, own(i.Mode))
			}
		case fstree.KindSymlink:
			err = a.t.Symlink(i.Target, dst, own(0o777))
		}
		if err != nil {
			return err
		}
	}
	return nil
}
