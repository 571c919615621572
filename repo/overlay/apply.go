package overlay

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/rootfsd/rootfsd/repo/fstree"
)

const (
	passwdFile = "etc/passwd"
	groupFile  = "etc/group"
	shadowFile = "etc/shadow"
	gshadow    = "etc/gshadow"
)

type applier struct {
	t     *fstree.Tree
	epoch time.Time
}

func (a *applier) attr(mode uint32, uid, gid int) fstree.Attr {
	return fstree.Attr{Mode: mode, UID: uid, GID: gid, ModTime: a.epoch}
}

// records reads a colon-separated account file; a missing file is empty.
func (a *applier) records(file string) ([][]string, error) {
	data, err := a.t.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out [][]string
	for _, line := range strings.Split(string(data), "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, strings.Split(line, ":"))
		}
	}
	return out, nil
}

func (a *applier) writeRecords(file string, recs [][]string, mode uint32) error {
	var b strings.Builder
	for _, r := range recs {
		b.WriteString(strings.Join(r, ":") + "\n")
	}
	at := a.attr(mode, 0, 0)
	if i, err := a.t.Stat(file); err == nil {
		at = i.Attr
		at.Owner = ""
	} else if err := a.t.MkdirAll(path.Dir(file), a.attr(0o755, 0, 0)); err != nil {
		return err
	}
	return a.t.WriteFile(file, []byte(b.String()), at)
}

func find(recs [][]string, field int, value string) []string {
	for _, r := range recs {
		if len(r) > field && r[field] == value {
			return r
		}
	}
	return nil
}

func freeID(recs [][]string, from int) int {
	for id := from; ; id++ {
		if find(recs, 2, strconv.Itoa(id)) == nil {
			return id
		}
	}
}

// addGroup adds a group; an existing group of the same name is kept when
// exists is allowed and its gid agrees.
func (a *applier) addGroup(name string, gid int, mayExist bool) error {
	groups, err := a.records(groupFile)
	if err != nil {
		return err
	}
	if g := find(groups, 0, name); g != nil {
		if !mayExist {
			return fmt.Errorf("a group of that name already exists in /etc/group")
		}
		if gid >= 0 && len(g) > 2 && g[2] != strconv.Itoa(gid) {
			return fmt.Errorf("exists in /etc/group with gid %s, not %d", g[2], gid)
		}
		return nil
	}
	if gid < 0 {
		gid = freeID(groups, 1000)
	} else if g := find(groups, 2, strconv.Itoa(gid)); g != nil {
		return fmt.Errorf("gid %d is taken by %s", gid, g[0])
	}
	if err := a.writeRecords(groupFile, append(groups, []string{name, "x", strconv.Itoa(gid), ""}), 0o644); err != nil {
		return err
	}
	if _, err := a.t.Lookup(gshadow); err == nil {
		recs, err := a.records(gshadow)
		if err != nil {
			return err
		}
		return a.writeRecords(gshadow, append(recs, []string{name, "!", "", ""}), 0o640)
	}
	return nil
}

func (a *applier) addUser(u User) error {
	users, err := a.records(passwdFile)
	if err != nil {
		return err
	}
	if find(users, 0, u.Name) != nil {
		return fmt.Errorf("the account already exists in /etc/passwd")
	}
	uid := u.UID
	if uid < 0 {
		uid = freeID(users, 1000)
	} else if r := find(users, 2, strconv.Itoa(uid)); r != nil {
		return fmt.Errorf("uid %d is taken by %s", uid, r[0])
	}
	primary := u.Group
	if primary == "" {
		primary = u.Name
		groups, err := a.records(groupFile)
		if err != nil {
			return err
		}
		if find(groups, 0, primary) == nil {
			gid := uid
			if find(groups, 2, strconv.Itoa(gid)) != nil {
				gid = -1
			}
			if err := a.addGroup(primary, gid, false); err != nil {
				return fmt.Errorf("group %s: %w", primary, err)
			}
		}
	}
	groups, err := a.records(groupFile)
	if err != nil {
		return err
	}
	g := find(groups, 0, primary)
	if g == nil || len(g) < 3 {
		return fmt.Errorf("primary group %q is not in /etc/group; add it under accounts.groups", primary)
	}
	gid, _ := strconv.Atoi(g[2])
	for _, name := range u.Groups {
		sg := find(groups, 0, name)
		if sg == nil {
			return fmt.Errorf("supplementary group %q is not in /etc/group; add it under accounts.groups", name)
		}
		for len(sg) < 4 {
			sg = append(sg, "")
		}
		members := strings.Split(sg[3], ",")
		if sg[3] == "" {
			members = nil
		}
		sg[3] = strings.Join(append(members, u.Name), ",")
		for i := range groups {
			if groups[i][0] == name {
				groups[i] = sg
			}
		}
	}
	if len(u.Groups) > 0 {
		if err := a.writeRecords(groupFile, groups, 0o644); err != nil {
			return err
		}
	}
	home, shell := u.Home, u.Shell
	if home == "" {
		home = "/home/" + u.Name
	}
	if shell == "" {
		shell = "/bin/sh"
	}
	pw := "*"
	_, shadowErr := a.t.Lookup(shadowFile)
	if shadowErr == nil {
		pw = "x"
	}
	if err := a.writeRecords(passwdFile, append(users, []string{u.Name, pw, strconv.Itoa(uid), strconv.Itoa(gid), "", home, shell}), 0o644); err != nil {
		return err
	}
	if shadowErr == nil {
		recs, err := a.records(shadowFile)
		if err != nil {
			return err
		}
		day := strconv.FormatInt(a.epoch.Unix()/86400, 10)
		if err := a.writeRecords(shadowFile, append(recs, []string{u.Name, "*", day, "0", "99999", "7", "", "", ""}), 0o640); err != nil {
			return err
		}
	}
	if home == "/" || home == "/nonexistent" {
		return nil
	}
	if err := a.t.MkdirAll(path.Dir(home), a.attr(0o755, 0, 0)); err != nil {
		return err
	}
	if _, err := a.t.Lookup(home); err == nil {
		return nil
	}
	return a.t.Mkdir(home, a.attr(0o755, uid, gid))
}
