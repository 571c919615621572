package fstree

import (
	"bytes"
	"fmt"
	"io/fs"
)

// The operations below take paths as a program inside the root would: a
// leading "/" is the root, ".." is resolved against the real parent and
// stops at the root, symlinks in parent components are followed. They are
// meant for configure steps; archive entries go through Add.

// create resolves p for a new entry: the parent must exist and p must not.
func (t *Tree) create(p string) (lookup, error) {
	comps, err := treePath(p)
	if err != nil {
		return lookup{}, err
	}
	l, err := t.resolve(comps, false, nil)
	if err != nil {
		return l, err
	}
	if l.node != nil {
		return l, fmt.Errorf("%s: %w", l.path(), fs.ErrExist)
	}
	return l, nil
}

// Mkdir creates the directory p, like mkdir(2).
func (t *Tree) Mkdir(p string, a Attr) error {
	l, err := t.create(p)
	if err != nil {
		return fmt.Errorf("fstree: mkdir %s: %w", p, err)
	}
	t.setChild(l.parent, l.name, newNode(KindDir, a))
	return nil
}

// MkdirAll creates p and any missing parents with attributes a, like
// mkdir -p. Existing directories, and symlinks to directories, are kept.
func (t *Tree) MkdirAll(p string, a Attr) error {
	comps, err := treePath(p)
	if err != nil {
		return fmt.Errorf("fstree: mkdir %s: %w", p, err)
	}
	x := t.Begin()
	defer x.Rollback()
	l, err := t.resolve(comps, true, &a)
	switch {
	case err != nil:
	case l.node == nil:
		t.setChild(l.parent, l.name, newNode(KindDir, a))
	case l.node.kind != KindDir:
		err = fmt.Errorf("%s: %w", l.path(), ErrNotDir)
	}
	if err != nil {
		return fmt.Errorf("fstree: mkdir %s: %w", p, err)
	}
	x.Commit()
	return nil
}

// Symlink creates p as a symlink to target, like symlink(2): the target is
// stored as given and only resolved, inside the tree, when followed.
func (t *Tree) Symlink(target, p string, a Attr) error {
	l, err := t.create(p)
	if err == nil {
		err = checkTarget(target)
	}
	if err != nil {
		return fmt.Errorf("fstree: symlink %s: %w", p, err)
	}
	n := newNode(KindSymlink, a)
	n.target = target
	t.setChild(l.parent, l.name, n)
	return nil
}

// Link makes newname another name of the regular file oldname, like
// link(2); a final symlink in oldname is not followed.
func (t *Tree) Link(oldname, newname string) error {
	old, err := t.find(oldname, false)
	if err == nil && old.node.kind != KindFile {
		err = fmt.Errorf("%s: %w", old.path(), ErrBadLink)
	}
	var l lookup
	if err == nil {
		l, err = t.create(newname)
	}
	if err != nil {
		return fmt.Errorf("fstree: link %s to %s: %w", newname, oldname, err)
	}
	t.setChild(l.parent, l.name, old.node)
	return nil
}

// WriteFile creates p or replaces its content, following a final symlink as
// open(2) with O_CREAT does. The attributes in a are applied in both cases.
// An existing file's other hard links see the new content, as in the kernel.
func (t *Tree) WriteFile(p string, data []byte, a Attr) error {
	comps, err := treePath(p)
	if err != nil {
		return fmt.Errorf("fstree: write %s: %w", p, err)
	}
	l, err := t.resolve(comps, true, nil)
	var c content
	if err == nil {
		c, err = t.readContent(bytes.NewReader(data), int64(len(data)))
	}
	switch {
	case err != nil:
	case l.node == nil:
		if l.parent == nil {
			err = fmt.Errorf("the root: %w", ErrIsDir)
			break
		}
		n := newNode(KindFile, a)
		n.data = c
		t.setChild(l.parent, l.name, n)
	case l.node.kind == KindFile:
		m := l.node.meta
		m.attr, m.data = normAttr(a), c
		t.setMeta(l.node, m)
	case l.node.kind == KindDir:
		err = fmt.Errorf("%s: %w", l.path(), ErrIsDir)
	default:
		err = fmt.Errorf("%s is a %s, not a regular file", l.path(), l.node.kind)
	}
	if err != nil {
		return fmt.Errorf("fstree: write %s: %w", p, err)
	}
	return nil
}

// Chmod sets the mode of p (permission bits, setuid, setgid, sticky),
// following a final symlink as chmod(2) does.
func (t *Tree) Chmod(p string, mode uint32) error {
	l, err := t.find(p, true)
	if err != nil {
		return fmt.Errorf("fstree: chmod %s: %w", p, err)
	}
	m := l.node.meta
	m.attr.Mode = mode & ModeMask
	t.setMeta(l.node, m)
	return nil
}

// Lchown sets the numeric owner of p, and clears its names, without
// following a final symlink, as lchown(2) does.
func (t *Tree) Lchown(p string, uid, gid int) error {
	l, err := t.find(p, false)
	if err != nil {
		return fmt.Errorf("fstree: chown %s: %w", p, err)
	}
	m := l.node.meta
	m.attr.UID, m.attr.GID, m.attr.Uname, m.attr.Gname = uid, gid, "", ""
	t.setMeta(l.node, m)
	return nil
}
