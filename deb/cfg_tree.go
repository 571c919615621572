package deb

import (
	"errors"
	"io/fs"
	"path"
	"strings"

	"github.com/rootfsd/rootfsd/repo/fstree"
)

// Tree helpers for the built-ins: the shell tests and commands maintainer
// scripts use (test -e, test -f, test -L, ln -sf, cp -p, touch), applied
// to the tree. Paths are relative to the root of the image, with or
// without a leading slash.

// exists is test -e: the path exists, following symlinks.
func (a *assembler) exists(p string) bool {
	_, err := a.t.Stat(p)
	return err == nil
}

// isFile is test -f.
func (a *assembler) isFile(p string) bool {
	i, err := a.t.Stat(p)
	return err == nil && i.Kind == fstree.KindFile
}

// isDir is test -d.
func (a *assembler) isDir(p string) bool {
	i, err := a.t.Stat(p)
	return err == nil && i.Kind == fstree.KindDir
}

// isLink is test -L.
func (a *assembler) isLink(p string) bool {
	i, err := a.t.Lookup(p)
	return err == nil && i.Kind == fstree.KindSymlink
}

// lexists is whether anything is at p, a dangling symlink included.
func (a *assembler) lexists(p string) bool {
	_, err := a.t.Lookup(p)
	return err == nil
}

// replaceSymlink is ln -sf target p: whatever non-directory is at p goes.
func (a *assembler) replaceSymlink(target, p string) error {
	if i, err := a.t.Lookup(p); err == nil {
		if i.Kind == fstree.KindDir {
			return a.t.Symlink(target, path.Join(p, path.Base(target)), a.attr(0o777))
		}
		if err := a.t.Remove(p); err != nil {
			return err
		}
	}
	return a.t.Symlink(target, p, a.attr(0o777))
}

// symlinkIfMissing is "[ -e p ] || ln -s target p" with test -L semantics:
// an existing entry of any kind, even a dangling link, is kept.
func (a *assembler) symlinkIfMissing(target, p string) error {
	if a.lexists(p) {
		return nil
	}
	return a.t.Symlink(target, p, a.attr(0o777))
}

// copyIfMissing is cp -p src dst when dst is not a regular file: the copy
// keeps src's mode, owner and mtime.
func (a *assembler) copyIfMissing(src, dst string) error {
	if a.isFile(dst) {
		return nil
	}
	return a.copyFile(src, dst)
}

// copyFile is cp -p src dst; a missing src is not an error (the script's
// cp would fail under set -e, but a trimmed or absent template is better
// skipped than fatal).
func (a *assembler) copyFile(src, dst string) error {
	i, err := a.t.Stat(src)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	data, err := a.t.ReadFile(src)
	if err != nil {
		return err
	}
	attr := i.Attr
	attr.Owner = ""
	return a.t.WriteFile(dst, data, attr)
}

// touch creates an empty file with mode and owner unless something is at p
// (test -f for a file, test -e otherwise, as the callers' scripts do).
func (a *assembler) touch(p string, mode uint32, uid, gid int) error {
	if a.exists(p) {
		return nil
	}
	attr := a.attr(mode)
	attr.UID, attr.GID, attr.Uname, attr.Gname = uid, gid, "", ""
	return a.t.WriteFile(p, nil, attr)
}

// writeFile replaces p's content, keeping its metadata when it exists.
func (a *assembler) writeFile(p string, data []byte, mode uint32) error {
	attr := a.attr(mode)
	if i, err := a.t.Stat(p); err == nil && i.Kind == fstree.KindFile {
		attr = i.Attr
		attr.Owner = ""
	}
	return a.t.WriteFile(p, data, attr)
}

// globExists reports whether dir has an entry whose name match accepts.
func (a *assembler) globExists(dir string, match func(string) bool) bool {
	found := false
	_ = a.t.Walk(func(i fstree.Info) error {
		if found {
			return fs.SkipAll
		}
		d, name := path.Split(i.Path)
		if strings.TrimSuffix(d, "/") == dir && match(name) {
			found = true
			return fs.SkipAll
		}
		if i.Kind == fstree.KindDir && i.Path != "." && !strings.HasPrefix(dir+"/", i.Path+"/") {
			return fs.SkipDir
		}
		return nil
	})
	return found
}

// readDir lists the names in the directory p (following symlinks), sorted.
func (a *assembler) readDir(p string) []string {
	i, err := a.t.Stat(p)
	if err != nil || i.Kind != fstree.KindDir {
		return nil
	}
	real := i.Path
	var names []string
	_ = a.t.Walk(func(e fstree.Info) error {
		if e.Path == "." {
			return nil
		}
		d, name := path.Split(e.Path)
		d = strings.TrimSuffix(d, "/")
		if d == "" {
			d = "."
		}
		if d == real {
			names = append(names, name)
		}
		if e.Kind == fstree.KindDir && e.Path != real && !strings.HasPrefix(real+"/", e.Path+"/") && real != "." {
			return fs.SkipDir
		}
		if e.Kind == fstree.KindDir && real == "." && e.Path != "." {
			return fs.SkipDir
		}
		return nil
	})
	return names
}

// realpath is dpkg-realpath --root: p with every symlink resolved inside
// the tree, as an absolute path. A missing final component is kept.
func (a *assembler) realpath(p string) string {
	if i, err := a.t.Stat(p); err == nil {
		if i.Path == "." {
			return "/"
		}
		return "/" + i.Path
	}
	dir, base := path.Split(strings.TrimSuffix(p, "/"))
	if dir == "" || dir == "/" {
		return "/" + base
	}
	return path.Join(a.realpath(strings.TrimSuffix(dir, "/")), base)
}
