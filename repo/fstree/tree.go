package fstree

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
)

// DefaultInlineMax is the size up to which file content is always kept in
// memory.
const DefaultInlineMax = 2048

// DefaultMemoryMax is Options.MemoryMax when zero: the content of a typical
// minimal root filesystem (tens of MiB) never touches the disk, and a tree
// of gigabytes still costs little more than this in memory.
const DefaultMemoryMax = 96 << 20

// Options configure a Tree. The zero value is usable.
type Options struct {
	// TempDir holds the spool file; empty means os.TempDir().
	TempDir string
	// InlineMax is the largest content always kept in memory; 0 means
	// DefaultInlineMax, a negative value keeps everything in memory.
	InlineMax int
	// MemoryMax bounds the bytes of larger content kept in memory as
	// well, first come first served; what does not fit goes to the spool
	// file. 0 means DefaultMemoryMax, a negative value spools every file
	// larger than InlineMax. Bytes of replaced or removed files are not
	// given back to the budget.
	MemoryMax int64
}

// Tree is a root filesystem in memory. It is not safe for concurrent use.
// Close it to release the spool file and the files it retains.
type Tree struct {
	root      *node
	inlineMax int64
	memLeft   int64 // of MemoryMax
	spool     spool
	journal   []undo
	txDepth   int
	retained  []retainedFile
}

// retainedFile is a file the tree's contents may refer to (Retain).
type retainedFile struct {
	f      *os.File
	fi     os.FileInfo
	verify func(*os.File) error
}

// Retain makes the tree keep f open until Close, for contents that refer
// to it (ContentAt), and notes its size, modification and change time for
// CheckRetained. verify, when not nil, checks f's whole content (against
// a digest, say) for CheckRetained when those changed.
func (t *Tree) Retain(f *os.File, verify func(*os.File) error) error {
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("fstree: retain %s: %w", f.Name(), err)
	}
	t.retained = append(t.retained, retainedFile{f, fi, verify})
	return nil
}

// CheckRetained fails when a retained file may have changed since Retain:
// contents the tree refers to in it may no longer be the bytes that were
// added. A file whose size, modification and change time are unchanged
// has not been written to; one where they moved (a write, but also a
// chmod, or the file replaced under its name and so unlinked) passes only
// if its verify function accepts its content. Check after writing the
// tree out and before trusting what was written.
func (t *Tree) CheckRetained() error {
	for _, r := range t.retained {
		fi, err := r.f.Stat()
		if err != nil {
			return fmt.Errorf("fstree: %s: %w", r.f.Name(), err)
		}
		if SameVersion(r.fi, fi) {
			continue
		}
		if r.verify == nil {
			return fmt.Errorf("fstree: %s changed while the tree referred to it", r.f.Name())
		}
		if err := r.verify(r.f); err != nil {
			return fmt.Errorf("fstree: %s changed while the tree referred to it: %w", r.f.Name(), err)
		}
	}
	return nil
}

// New returns an empty tree: a root directory with mode 0755 owned by 0:0.
func New(opts Options) *Tree {
	t := &Tree{
		root:      newNode(KindDir, Attr{Mode: 0o755}),
		inlineMax: int64(opts.InlineMax),
		memLeft:   opts.MemoryMax,
		spool:     spool{dir: opts.TempDir},
	}
	switch {
	case opts.MemoryMax == 0:
		t.memLeft = DefaultMemoryMax
	case opts.MemoryMax < 0:
		t.memLeft = 0
	}
	t.root.implicit = true
	switch {
	case opts.InlineMax == 0:
		t.inlineMax = DefaultInlineMax
	case opts.InlineMax < 0:
		t.inlineMax = 1<<63 - 1
	}
	return t
}

// Close releases the spool file. The tree must not be used afterwards.
func (t *Tree) Close() error {
	for _, r := range t.retained {
		r.f.Close()
	}
	t.retained = nil
	if err := t.spool.close(); err != nil {
		return fmt.Errorf("fstree: close spool: %w", err)
	}
	return nil
}

// SpoolSize is the number of content bytes kept in the spool file (the
// rest is in memory).
func (t *Tree) SpoolSize() int64 { return t.spool.size() }

// ContentRef is implemented by a content reader, given to Add, that can
// lend the tree the file's bytes instead of having them copied: a data.tar
// decoded into memory. ContentRef(n) returns the next n bytes of content
// without consuming them, and ok false when it cannot. The tree keeps the
// slice for as long as it lives, so its bytes must never change. Only
// content larger than InlineMax is borrowed, within MemoryMax; smaller
// files are copied so that a few bytes do not pin a large buffer.
type ContentRef interface {
	ContentRef(n int64) (b []byte, ok bool)
}

// ContentAt is implemented by a content reader, given to Add, whose bytes
// also lie in a ReaderAt that will not change while the tree lives, such
// as a tar file on disk: ContentAt(n) tells where the next n bytes are,
// without consuming them, and the tree refers to them there instead of
// copying them. Only content larger than InlineMax is referred to.
type ContentAt interface {
	ContentAt(n int64) (ra io.ReaderAt, off int64, ok bool)
}

// readContent stores size bytes of r, in memory or in the spool.
func (t *Tree) readContent(r io.Reader, size int64) (content, error) {
	if size < 0 {
		return content{}, fmt.Errorf("negative size %d", size)
	}
	if ca, ok := r.(ContentAt); ok && size > t.inlineMax {
		if ra, off, ok := ca.ContentAt(size); ok && ra != nil && off >= 0 {
			return content{size: size, ra: ra, off: off}, nil
		}
	}
	if cr, ok := r.(ContentRef); ok && size > t.inlineMax && size <= t.memLeft {
		if b, ok := cr.ContentRef(size); ok && int64(len(b)) == size {
			t.memLeft -= size
			return content{size: size, inline: b}, nil
		}
	}
	inMemory := size <= t.inlineMax
	if !inMemory && size <= t.memLeft {
		inMemory = true
		t.memLeft -= size
	}
	if inMemory {
		b := make([]byte, size)
		if n, err := io.ReadFull(r, b); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			if size > t.inlineMax {
				t.memLeft += size
			}
			return content{}, fmt.Errorf("content ends after %d of %d bytes: %w", n, size, err)
		}
		return content{size: size, inline: b}, nil
	}
	off, err := t.spool.write(r, size)
	if err != nil {
		return content{}, err
	}
	return content{size: size, ra: t.spool.f, off: off}, nil
}

// find resolves a caller's path.
func (t *Tree) find(p string, follow bool) (lookup, error) {
	comps, err := treePath(p)
	if err != nil {
		return lookup{}, err
	}
	l, err := t.resolve(comps, follow, nil)
	if err != nil {
		return l, err
	}
	if l.node == nil {
		return l, fmt.Errorf("%s: %w", l.path(), fs.ErrNotExist)
	}
	return l, nil
}

// Lookup describes p without following a final symlink, like lstat(2).
func (t *Tree) Lookup(p string) (Info, error) {
	l, err := t.find(p, false)
	if err != nil {
		return Info{}, fmt.Errorf("fstree: lookup %s: %w", p, err)
	}
	return l.node.info(l.path()), nil
}

// Stat describes p following symlinks, like stat(2); Info.Path is the real
// path reached.
func (t *Tree) Stat(p string) (Info, error) {
	l, err := t.find(p, true)
	if err != nil {
		return Info{}, fmt.Errorf("fstree: stat %s: %w", p, err)
	}
	return l.node.info(l.path()), nil
}

// Open returns a reader of the regular file at p, following symlinks. The
// reader stays valid until the tree is closed, even if p is replaced.
func (t *Tree) Open(p string) (*io.SectionReader, error) {
	l, err := t.find(p, true)
	switch {
	case err != nil:
	case l.node.kind == KindDir:
		err = fmt.Errorf("%s: %w", l.path(), ErrIsDir)
	case l.node.kind != KindFile:
		err = fmt.Errorf("%s is a %s, not a regular file", l.path(), l.node.kind)
	}
	if err != nil {
		return nil, fmt.Errorf("fstree: open %s: %w", p, err)
	}
	return l.node.data.reader(), nil
}

// ReadFile returns the content of the regular file at p.
func (t *Tree) ReadFile(p string) ([]byte, error) {
	r, err := t.Open(p)
	if err != nil {
		return nil, err
	}
	b := make([]byte, r.Size())
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, fmt.Errorf("fstree: read %s: %w", p, err)
	}
	return b, nil
}

// Walk calls fn for every path in the tree, the root (".") first, then
// depth-first with the entries of each directory in byte order, so parents
// come before their children. Returning fs.SkipDir from fn for a directory
// skips its contents; fs.SkipAll stops the walk without error. The second
// and later paths of a hard-linked file carry the first one in Info.Link.
func (t *Tree) Walk(fn func(Info) error) error {
	return t.walkInfo(func(i Info, _ *node) error { return fn(i) })
}

// walkInfo is Walk that also hands out the node.
func (t *Tree) walkInfo(fn func(Info, *node) error) error {
	seen := make(map[*node]string)
	err := t.walk(t.root, nil, func(n *node, comps []string) error {
		p := joinPath(comps)
		i := n.info(p)
		if n.kind == KindFile {
			if first, ok := seen[n]; ok {
				i.Link = first
			} else {
				seen[n] = p
			}
		}
		return fn(i, n)
	})
	if errors.Is(err, fs.SkipAll) {
		return nil
	}
	return err
}

// walk is Walk on nodes. comps is reused: copy it to keep it.
func (t *Tree) walk(n *node, comps []string, fn func(*node, []string) error) error {
	if err := fn(n, comps); err != nil {
		if errors.Is(err, fs.SkipDir) && n.kind == KindDir {
			return nil
		}
		return err
	}
	if n.kind != KindDir {
		return nil
	}
	for _, name := range sortedNames(n) {
		if err := t.walk(n.children[name], append(comps, name), fn); err != nil {
			if errors.Is(err, fs.SkipDir) {
				return nil // SkipDir from a file skips the rest of its directory
			}
			return err
		}
	}
	return nil
}

func sortedNames(n *node) []string {
	names := make([]string, 0, len(n.children))
	for name := range n.children {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}
