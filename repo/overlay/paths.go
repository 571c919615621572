package overlay

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"

	"github.com/rootfsd/rootfsd/repo/fstree"
)

// owner resolves "USER[:GROUP]" against the tree's passwd and group. A
// user without a group takes the user's primary group.
func (a *applier) owner(s string) (uid, gid int, err error) {
	if s == "" {
		return 0, 0, nil
	}
	user, group, hasGroup := strings.Cut(s, ":")
	users, err := a.records(passwdFile)
	if err != nil {
		return 0, 0, err
	}
	groups, err := a.records(groupFile)
	if err != nil {
		return 0, 0, err
	}
	if n, err := strconv.Atoi(user); err == nil && n >= 0 {
		uid, gid = n, n
	} else if r := find(users, 0, user); r != nil && len(r) > 3 {
		uid, _ = strconv.Atoi(r[2])
		gid, _ = strconv.Atoi(r[3])
	} else {
		return 0, 0, fmt.Errorf("owner %q: no user %q in /etc/passwd; add it under accounts.users", s, user)
	}
	if !hasGroup {
		return uid, gid, nil
	}
	if n, err := strconv.Atoi(group); err == nil && n >= 0 {
		return uid, n, nil
	}
	r := find(groups, 0, group)
	if r == nil || len(r) < 3 {
		return 0, 0, fmt.Errorf("owner %q: no group %q in /etc/group; add it under accounts.groups", s, group)
	}
	gid, _ = strconv.Atoi(r[2])
	return uid, gid, nil
}

func (a *applier) path(p Path) error {
	uid, gid, err := a.owner(p.Owner)
	if err != nil {
		return err
	}
	switch p.Type {
	case Directory:
		mode := uint32(0o755)
		if p.HasMode {
			mode = p.Mode
		}
		if err := a.t.MkdirAll(path.Dir(p.Path), a.attr(0o755, 0, 0)); err != nil {
			return err
		}
		i, err := a.t.Stat(p.Path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return a.t.Mkdir(p.Path, a.attr(mode, uid, gid))
		case err != nil:
			return err
		case i.Kind != fstree.KindDir:
			return fmt.Errorf("exists and is a %s", i.Kind)
		}
		return a.set(p, uid, gid)
	case Symlink:
		if err := a.t.MkdirAll(path.Dir(p.Path), a.attr(0o755, 0, 0)); err != nil {
			return err
		}
		if i, err := a.t.Lookup(p.Path); err == nil {
			if i.Kind == fstree.KindDir {
				return fmt.Errorf("exists and is a directory")
			}
			if err := a.t.Remove(p.Path); err != nil {
				return err
			}
		}
		if err := a.t.Symlink(p.Target, p.Path, a.attr(0o777, uid, gid)); err != nil {
			return err
		}
		return nil
	}
	if _, err := a.t.Lookup(p.Path); err != nil {
		return fmt.Errorf("does not exist: give type: directory or symlink to create it")
	}
	return a.set(p, uid, gid)
}

func (a *applier) set(p Path, uid, gid int) error {
	if p.HasMode {
		if err := a.t.Chmod(p.Path, p.Mode); err != nil {
			return err
		}
	}
	if p.Owner != "" {
		return a.t.Lchown(p.Path, uid, gid)
	}
	return nil
}

func (a *applier) file(f File) error {
	uid, gid, err := a.owner(f.Owner)
	if err != nil {
		return err
	}
	mode := f.Mode
	if mode == 0 {
		mode = 0o644
	}
	if err := a.t.MkdirAll(path.Dir(f.Dest), a.attr(0o755, 0, 0)); err != nil {
		return err
	}
	if i, err := a.t.Lookup(f.Dest); err == nil && i.Kind == fstree.KindSymlink {
		// Replace a symlink rather than write through it.
		if err := a.t.Remove(f.Dest); err != nil {
			return err
		}
	}
	return a.t.WriteFile(f.Dest, f.Data, a.attr(mode, uid, gid))
}
