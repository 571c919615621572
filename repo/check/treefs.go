package check

import (
	"io"
	"io/fs"
	"path"
	"sync"
	"time"

	"github.com/rootfsd/rootfsd/repo/fstree"
)

// TreeFS presents an fstree.Tree as an fs.ReadLinkFS, so that a build can
// check its tree before writing it and `rootfsd check` can check a tar or
// an image it unpacked. Directory listings are built on first use; the
// tree must not change while the view is in use, and then the view may be
// read from several goroutines at once.
func TreeFS(t *fstree.Tree) fs.ReadLinkFS { return &treeFS{t: t} }

type treeFS struct {
	t        *fstree.Tree
	once     sync.Once
	children map[string][]fs.DirEntry
	walkErr  error
}

func (f *treeFS) Lstat(name string) (fs.FileInfo, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "lstat", Path: name, Err: fs.ErrInvalid}
	}
	i, err := f.t.Lookup(name)
	if err != nil {
		return nil, &fs.PathError{Op: "lstat", Path: name, Err: err}
	}
	return treeInfo{i}, nil
}

func (f *treeFS) ReadLink(name string) (string, error) {
	if !fs.ValidPath(name) {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: fs.ErrInvalid}
	}
	i, err := f.t.Lookup(name)
	if err != nil {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: err}
	}
	if i.Kind != fstree.KindSymlink {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: fs.ErrInvalid}
	}
	return i.Target, nil
}

func (f *treeFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	i, err := f.t.Stat(name)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	switch i.Kind {
	case fstree.KindDir:
		ents, err := f.ReadDir(i.Path)
		if err != nil {
			return nil, err
		}
		return &treeDir{info: treeInfo{i}, ents: ents}, nil
	case fstree.KindFile:
		r, err := f.t.Open(i.Path)
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
		return &treeFile{SectionReader: r, info: treeInfo{i}}, nil
	}
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
}

// ReadDir lists a directory, following symlinks to it.
func (f *treeFS) ReadDir(name string) ([]fs.DirEntry, error) {
	i, err := f.t.Stat(name)
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: err}
	}
	if i.Kind != fstree.KindDir {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fstree.ErrNotDir}
	}
	f.once.Do(func() {
		f.children = map[string][]fs.DirEntry{}
		f.walkErr = f.t.Walk(func(i fstree.Info) error {
			if i.Path != "." {
				dir := path.Dir(i.Path)
				f.children[dir] = append(f.children[dir], fs.FileInfoToDirEntry(treeInfo{i}))
			}
			return nil
		})
	})
	if f.walkErr != nil {
		return nil, f.walkErr
	}
	return f.children[i.Path], nil
}

// treeInfo is an fstree.Info as an fs.FileInfo; Sys returns the Info.
type treeInfo struct{ i fstree.Info }

func (t treeInfo) Name() string       { return path.Base(t.i.Path) }
func (t treeInfo) Size() int64        { return t.i.Size }
func (t treeInfo) ModTime() time.Time { return t.i.ModTime }
func (t treeInfo) IsDir() bool        { return t.i.Kind == fstree.KindDir }
func (t treeInfo) Sys() any           { return t.i }

func (t treeInfo) Mode() fs.FileMode {
	m := fs.FileMode(t.i.Mode & 0o777)
	if t.i.Mode&0o4000 != 0 {
		m |= fs.ModeSetuid
	}
	if t.i.Mode&0o2000 != 0 {
		m |= fs.ModeSetgid
	}
	if t.i.Mode&0o1000 != 0 {
		m |= fs.ModeSticky
	}
	switch t.i.Kind {
	case fstree.KindDir:
		m |= fs.ModeDir
	case fstree.KindSymlink:
		m |= fs.ModeSymlink
	case fstree.KindChar:
		m |= fs.ModeDevice | fs.ModeCharDevice
	case fstree.KindBlock:
		m |= fs.ModeDevice
	case fstree.KindFIFO:
		m |= fs.ModeNamedPipe
	}
	return m
}

type treeFile struct {
	*io.SectionReader
	info treeInfo
}

func (f *treeFile) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *treeFile) Close() error               { return nil }

type treeDir struct {
	info treeInfo
	ents []fs.DirEntry
	off  int
}

func (d *treeDir) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *treeDir) Close() error               { return nil }
func (d *treeDir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.info.i.Path, Err: fstree.ErrIsDir}
}

func (d *treeDir) ReadDir(n int) ([]fs.DirEntry, error) {
	rest := d.ents[d.off:]
	if n <= 0 {
		d.off = len(d.ents)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	if n > len(rest) {
		n = len(rest)
	}
	d.off += n
	return rest[:n], nil
}
