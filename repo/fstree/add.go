package fstree

import (
	"archive/tar"
	"fmt"
	"io"
	"io/fs"
	"strings"
)

// Replaced reports that an operation replaced a non-directory that another
// owner had put in the tree. Callers decide whether that is allowed (dpkg's
// Replaces, apk's replaces) and roll back their Txn when it is not.
type Replaced struct {
	Path  string // real path in the tree
	Owner string // the previous owner
	Kind  Kind   // what was replaced
}

const xattrPrefix = "SCHILY.xattr."

// Add puts one archive entry into the tree, tagged with owner. The name
// must be relative and free of ".." (a leading "./" is fine). Parent
// directories are resolved inside the tree, following symlinks; missing
// ones are created with mode 0755. The final component is replaced, not
// followed, except that a directory entry meeting a symlink to a directory
// keeps the symlink, as dpkg does, so that merged-/usr links survive
// packages that still ship /bin/. A directory entry meeting an existing
// directory changes nothing unless that directory was only created as a
// parent. Hard links must name a regular file already in the tree. For
// regular files exactly hdr.Size bytes are read from r. A refused entry
// changes nothing.
func (t *Tree) Add(hdr *tar.Header, r io.Reader, owner string) (*Replaced, error) {
	x := t.Begin() // a refused entry leaves no parent directories behind
	defer x.Rollback()
	rep, err := t.add(hdr, r, owner)
	if err != nil {
		return nil, fmt.Errorf("fstree: add %s: %w", hdr.Name, err)
	}
	x.Commit()
	return rep, nil
}

func (t *Tree) add(hdr *tar.Header, r io.Reader, owner string) (*Replaced, error) {
	comps, err := archivePath(hdr.Name)
	if err != nil {
		return nil, err
	}
	if isSparse(hdr) {
		// archive/tar expands PAX sparse files to their full size: a few
		// bytes of input could write gigabytes of zeros.
		return nil, fmt.Errorf("sparse file: %w", ErrUnsupported)
	}
	a := Attr{
		Mode: uint32(hdr.Mode) & ModeMask, UID: hdr.Uid, GID: hdr.Gid,
		Uname: hdr.Uname, Gname: hdr.Gname, ModTime: hdr.ModTime,
		Xattrs: xattrs(hdr), Owner: owner,
	}
	var n *node
	switch hdr.Typeflag {
	case tar.TypeReg, 0: // 0 is the old TypeRegA
		n = newNode(KindFile, a)
		if n.data, err = t.readContent(r, hdr.Size); err != nil {
			return nil, err
		}
	case tar.TypeDir:
		n = newNode(KindDir, a)
	case tar.TypeSymlink:
		if err := checkTarget(hdr.Linkname); err != nil {
			return nil, err
		}
		n = newNode(KindSymlink, a)
		n.target = hdr.Linkname
	case tar.TypeLink:
		if n, err = t.linkTarget(hdr.Linkname, owner); err != nil {
			return nil, err
		}
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		n = newNode(map[byte]Kind{tar.TypeChar: KindChar, tar.TypeBlock: KindBlock, tar.TypeFifo: KindFIFO}[hdr.Typeflag], a)
		n.devmajor, n.devminor = hdr.Devmajor, hdr.Devminor
	default:
		return nil, fmt.Errorf("type %q: %w", hdr.Typeflag, ErrUnsupported)
	}
	if len(comps) == 0 {
		if n.kind != KindDir {
			return nil, fmt.Errorf("the root must be a directory, not a %s: %w", n.kind, ErrNotDir)
		}
		t.explicitDir(t.root, n)
		return nil, nil
	}
	l, err := t.resolve(comps, false, &Attr{Mode: 0o755, Owner: owner})
	if err != nil {
		return nil, err
	}
	if err := checkVia(l.via, owner); err != nil {
		return nil, err
	}
	if n.kind == KindDir && l.node != nil {
		switch l.node.kind {
		case KindDir:
			t.explicitDir(l.node, n)
			return nil, nil
		case KindSymlink:
			tl, err := t.resolve(comps, true, &Attr{Mode: 0o755, Owner: owner})
			if err != nil {
				return nil, err
			}
			if err := checkVia(tl.via, owner); err != nil {
				return nil, err
			}
			switch {
			case tl.node != nil && tl.node.kind == KindDir:
				return nil, nil // keep the symlink to a directory
			case tl.node == nil:
				return t.place(tl, n) // dangling: make the directory it names
			}
		}
	}
	return t.place(l, n)
}

// explicitDir gives a directory that was only created as a parent the
// metadata of its own entry, once.
func (t *Tree) explicitDir(d, entry *node) {
	if !d.implicit {
		return
	}
	m := d.meta
	m.attr, m.implicit = entry.attr, false
	t.setMeta(d, m)
}

// place puts n where l points, replacing what is there. A directory with
// entries is never replaced; the same node is left alone.
func (t *Tree) place(l lookup, n *node) (*Replaced, error) {
	if l.parent == nil {
		return nil, fmt.Errorf("cannot replace the root: %w", ErrInvalid)
	}
	old := l.node
	if old == n {
		return nil, nil
	}
	var rep *Replaced
	if old != nil {
		if old.kind == KindDir && len(old.children) > 0 {
			return nil, fmt.Errorf("would replace directory %s: %w", l.path(), ErrNotEmpty)
		}
		if old.kind != KindDir && old.attr.Owner != "" && old.attr.Owner != n.attr.Owner {
			rep = &Replaced{Path: l.path(), Owner: old.attr.Owner, Kind: old.kind}
		}
	}
	t.setChild(l.parent, l.name, n)
	return rep, nil
}

// linkTarget finds the regular file a hard link names.
func (t *Tree) linkTarget(name, owner string) (*node, error) {
	comps, err := archivePath(name)
	if err != nil {
		return nil, fmt.Errorf("link target %s: %w", name, err)
	}
	l, err := t.resolve(comps, false, nil)
	if err == nil {
		err = checkVia(l.via, owner)
	}
	if err != nil {
		return nil, fmt.Errorf("link target %s: %w", name, err)
	}
	if l.node == nil || l.node.kind != KindFile {
		return nil, fmt.Errorf("link target %s: %w", name, ErrBadLink)
	}
	return l.node, nil
}

// checkVia refuses a path that passes through a symlink of the same owner.
func checkVia(via []*node, owner string) error {
	if owner == "" {
		return nil
	}
	for _, s := range via {
		if s.attr.Owner == owner {
			return fmt.Errorf("through symlink to %q: %w", s.target, ErrOwnSymlink)
		}
	}
	return nil
}

func checkTarget(target string) error {
	if target == "" {
		return fmt.Errorf("empty symlink target: %w", fs.ErrInvalid)
	}
	if err := checkLen(target); err != nil {
		return fmt.Errorf("symlink target: %w", err)
	}
	return nil
}

// xattrs collects the extended attributes of a tar header.
func xattrs(hdr *tar.Header) map[string]string {
	var m map[string]string
	for k, v := range hdr.PAXRecords {
		if name, ok := strings.CutPrefix(k, xattrPrefix); ok {
			if m == nil {
				m = make(map[string]string)
			}
			m[name] = v
		}
	}
	return m
}

func isSparse(hdr *tar.Header) bool {
	for k := range hdr.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return true
		}
	}
	return false
}

// StoredWhole reports whether a tar entry is a regular file whose data
// follows its header whole, as it reads (not sparse): the entry a content
// reader may offer in place (ContentAt, ContentRef).
func StoredWhole(hdr *tar.Header) bool {
	return (hdr.Typeflag == tar.TypeReg || hdr.Typeflag == tar.TypeRegA) && !isSparse(hdr)
}
