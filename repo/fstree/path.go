package fstree

import (
	"fmt"
	"io/fs"
	"strings"
)

// Limits of the kernel, applied to every path and symlink target.
const (
	maxPathLen = 4096
	maxNameLen = 255
	maxHops    = 40 // symlinks followed in one lookup, Linux's MAXSYMLINKS
)

// archivePath checks and splits a name taken from an archive, such as
// "./usr/bin/" or "usr/bin/ls". Absolute names, ".." components and NUL
// bytes are refused: a package has no business naming anything outside its
// own root. The root itself ("./", ".") is an empty slice.
func archivePath(name string) ([]string, error) {
	if err := checkLen(name); err != nil {
		return nil, err
	}
	if strings.HasPrefix(name, "/") {
		return nil, fmt.Errorf("absolute name: %w", ErrUnsafePath)
	}
	var comps []string
	for c := range strings.SplitSeq(name, "/") {
		switch c {
		case "", ".":
		case "..":
			return nil, fmt.Errorf("'..' component: %w", ErrUnsafePath)
		default:
			if len(c) > maxNameLen {
				return nil, fmt.Errorf("component longer than %d bytes: %w", maxNameLen, ErrUnsafePath)
			}
			comps = append(comps, c)
		}
	}
	return comps, nil
}

// treePath splits a path given by a caller. A leading "/" means the root of
// the tree; ".." is kept and resolved against the real parent directory
// (clamped at the root), as in a chroot.
func treePath(p string) ([]string, error) {
	if err := checkLen(p); err != nil {
		return nil, err
	}
	var comps []string
	for c := range strings.SplitSeq(p, "/") {
		if c == "" || c == "." {
			continue
		}
		if len(c) > maxNameLen {
			return nil, fmt.Errorf("component longer than %d bytes: %w", maxNameLen, ErrUnsafePath)
		}
		comps = append(comps, c)
	}
	return comps, nil
}

func checkLen(p string) error {
	if len(p) > maxPathLen {
		return fmt.Errorf("path longer than %d bytes: %w", maxPathLen, ErrUnsafePath)
	}
	if strings.IndexByte(p, 0) >= 0 {
		return fmt.Errorf("NUL byte in path: %w", ErrUnsafePath)
	}
	return nil
}

// joinPath renders components as a tree path: "usr/bin", or "." for the root.
func joinPath(comps []string) string {
	if len(comps) == 0 {
		return "."
	}
	return strings.Join(comps, "/")
}

// lookup is where a path resolved to.
type lookup struct {
	parent *node    // directory holding the final entry; nil for the root
	name   string   // final component; "" for the root
	node   *node    // the entry; nil when it does not exist
	dir    []string // real components of parent, from the root
	via    []*node  // symlinks followed on the way
}

// path is the real path of the final entry.
func (l *lookup) path() string {
	if l.parent == nil {
		return "."
	}
	return joinPath(append(l.dir[:len(l.dir):len(l.dir)], l.name))
}

// resolve walks comps from the root the way the kernel does inside a
// chroot: symlinks in parent components are followed (absolute targets
// restart at the root, ".." stops at the root), the final component is
// followed only when followLast is set. With mkdir non-nil, missing parent
// directories are created as implicit directories with that Attr.
func (t *Tree) resolve(comps []string, followLast bool, mkdir *Attr) (lookup, error) {
	stack := []*node{t.root}
	var names []string
	var via []*node
	todo := comps
	for hops := 0; len(todo) > 0; {
		c := todo[0]
		todo = todo[1:]
		last := len(todo) == 0
		if c == "." || c == "" || c == ".." {
			if c == ".." && len(stack) > 1 {
				stack, names = stack[:len(stack)-1], names[:len(names)-1]
			}
			if last {
				break
			}
			continue
		}
		cur := stack[len(stack)-1]
		child := cur.children[c]
		if last && (child == nil || child.kind != KindSymlink || !followLast) {
			return lookup{parent: cur, name: c, node: child, dir: names, via: via}, nil
		}
		if child == nil {
			if mkdir == nil {
				return lookup{}, fmt.Errorf("%s: %w", joinPath(append(names, c)), fs.ErrNotExist)
			}
			child = newNode(KindDir, *mkdir)
			child.implicit = true
			t.setChild(cur, c, child)
		}
		switch child.kind {
		case KindDir:
			stack, names = append(stack, child), append(names, c)
		case KindSymlink:
			if hops++; hops > maxHops {
				return lookup{}, fmt.Errorf("%s: %w", joinPath(append(names, c)), ErrLoop)
			}
			via = append(via, child)
			if child.target == "" {
				return lookup{}, fmt.Errorf("%s: empty symlink: %w", joinPath(append(names, c)), fs.ErrNotExist)
			}
			if strings.HasPrefix(child.target, "/") {
				stack, names = stack[:1], nil
			}
			next := strings.Split(child.target, "/")
			todo = append(next[:len(next):len(next)], todo...)
		default:
			return lookup{}, fmt.Errorf("%s: %w", joinPath(append(names, c)), ErrNotDir)
		}
	}
	// The path ends in a directory reached through ".", ".." or a symlink.
	if len(stack) == 1 {
		return lookup{node: t.root, via: via}, nil
	}
	return lookup{
		parent: stack[len(stack)-2],
		name:   names[len(names)-1],
		node:   stack[len(stack)-1],
		dir:    names[:len(names)-1],
		via:    via,
	}, nil
}
