package fstree

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"
)

// Kind is the type of a node.
type Kind uint8

const (
	KindFile Kind = iota + 1
	KindDir
	KindSymlink
	KindChar  // character device
	KindBlock // block device
	KindFIFO
)

var kindNames = [...]string{"invalid", "file", "directory", "symlink", "char device", "block device", "fifo"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// ModeMask is the part of a mode a tree keeps: permission bits plus
// setuid, setgid and sticky, as in chmod(2).
const ModeMask = 0o7777

// Attr is the metadata of a node a caller creates. The zero value is a
// root-owned node with mode 0, the Unix epoch as mtime, and no owner tag.
type Attr struct {
	Mode         uint32 // permission bits, setuid/setgid/sticky; masked with ModeMask
	UID, GID     int
	Uname, Gname string
	ModTime      time.Time
	Xattrs       map[string]string
	// Owner tags the node with the package that put it there.
	Owner string
}

// Info describes one path of a tree. It is a copy: changing it changes
// nothing in the tree.
type Info struct {
	// Path is slash-separated and relative to the root, "." for the root.
	Path string
	Kind Kind
	Attr
	// Size is the content length of a regular file.
	Size int64
	// Target is a symlink's target as stored.
	Target string
	// Link is set by Walk on the second and later paths of a file that has
	// several (hard links): the first path in walk order.
	Link               string
	Devmajor, Devminor int64
}

// meta is everything about a node except the children of a directory; it
// is copied whole into the journal before a change.
type meta struct {
	kind     Kind
	attr     Attr
	target   string
	devmajor int64
	devminor int64
	data     content
	// implicit marks a directory created as the parent of something else;
	// the first explicit entry for it sets its metadata.
	implicit bool
}

// node is an inode: a directory entry refers to one, hard links are several
// entries referring to the same node.
type node struct {
	meta
	children map[string]*node
}

func newNode(kind Kind, a Attr) *node {
	n := &node{meta: meta{kind: kind, attr: normAttr(a)}}
	if kind == KindDir {
		n.children = make(map[string]*node)
	}
	return n
}

// normAttr masks the mode, gives a zero mtime the Unix epoch, truncates it
// to whole seconds (what tar keeps) and copies the xattrs.
func normAttr(a Attr) Attr {
	a.Mode &= ModeMask
	if a.ModTime.IsZero() {
		a.ModTime = time.Unix(0, 0)
	}
	a.ModTime = time.Unix(a.ModTime.Unix(), 0).UTC()
	if len(a.Xattrs) == 0 {
		a.Xattrs = nil
	} else {
		a.Xattrs = maps.Clone(a.Xattrs)
	}
	return a
}

func (n *node) info(p string) Info {
	i := Info{
		Path:     p,
		Kind:     n.kind,
		Attr:     n.attr,
		Target:   n.target,
		Devmajor: n.devmajor,
		Devminor: n.devminor,
	}
	i.Xattrs = maps.Clone(n.attr.Xattrs)
	if n.kind == KindFile {
		i.Size = n.data.size
	}
	return i
}

// content is a regular file's bytes: inline when small, else a section of
// the spool file.
type content struct {
	size   int64
	inline []byte
	ra     io.ReaderAt
	off    int64
}

func (c content) reader() *io.SectionReader {
	if c.ra == nil {
		return io.NewSectionReader(bytes.NewReader(c.inline), 0, int64(len(c.inline)))
	}
	return io.NewSectionReader(c.ra, c.off, c.size)
}

func sortedKeys(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}
