package fstree

import (
	"errors"
	"fmt"
	"io/fs"
)

// Remove removes the file, symlink, device or empty directory p; a final
// symlink is removed, not followed.
func (t *Tree) Remove(p string) error {
	l, err := t.find(p, false)
	switch {
	case err != nil:
	case l.parent == nil:
		err = fmt.Errorf("the root: %w", ErrInvalid)
	case l.node.kind == KindDir && len(l.node.children) > 0:
		err = fmt.Errorf("%s: %w", l.path(), ErrNotEmpty)
	}
	if err != nil {
		return fmt.Errorf("fstree: remove %s: %w", p, err)
	}
	t.delChild(l.parent, l.name)
	return nil
}

// RemoveAll removes p and everything below it. A missing p is not an
// error; the root cannot be removed.
func (t *Tree) RemoveAll(p string) error {
	comps, err := treePath(p)
	if err != nil {
		return fmt.Errorf("fstree: remove %s: %w", p, err)
	}
	l, err := t.resolve(comps, false, nil)
	switch {
	case err != nil:
	case l.parent == nil:
		err = fmt.Errorf("the root: %w", ErrInvalid)
	case l.node == nil:
		return nil
	}
	if err != nil {
		if isNotExist(err) {
			return nil
		}
		return fmt.Errorf("fstree: remove %s: %w", p, err)
	}
	t.delChild(l.parent, l.name)
	return nil
}

// Rename moves oldname to newname, like rename(2): final symlinks are not
// followed, an existing newname is replaced when it is a non-directory and
// oldname is too, or when both are directories and newname is empty. A
// directory cannot move below itself.
func (t *Tree) Rename(oldname, newname string) error {
	if err := t.rename(oldname, newname); err != nil {
		return fmt.Errorf("fstree: rename %s to %s: %w", oldname, newname, err)
	}
	return nil
}

func (t *Tree) rename(oldname, newname string) error {
	from, err := t.find(oldname, false)
	if err != nil {
		return err
	}
	comps, err := treePath(newname)
	if err != nil {
		return err
	}
	to, err := t.resolve(comps, false, nil)
	if err != nil {
		return err
	}
	if from.parent == nil || to.parent == nil {
		return fmt.Errorf("the root: %w", ErrInvalid)
	}
	n, old := from.node, to.node
	if old == n {
		return nil
	}
	if n.kind == KindDir && t.below(to.dir, n) {
		return fmt.Errorf("%s is below %s: %w", to.path(), from.path(), ErrInvalid)
	}
	if old != nil {
		switch {
		case old.kind == KindDir && n.kind != KindDir:
			return fmt.Errorf("%s: %w", to.path(), ErrIsDir)
		case old.kind != KindDir && n.kind == KindDir:
			return fmt.Errorf("%s: %w", to.path(), ErrNotDir)
		case old.kind == KindDir && len(old.children) > 0:
			return fmt.Errorf("%s: %w", to.path(), ErrNotEmpty)
		}
	}
	t.delChild(from.parent, from.name)
	t.setChild(to.parent, to.name, n)
	return nil
}

// below reports whether the directory with real components dir is d or
// lies below it.
func (t *Tree) below(dir []string, d *node) bool {
	cur := t.root
	for _, c := range dir {
		if cur == d {
			return true
		}
		cur = cur.children[c]
	}
	return cur == d
}

func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
