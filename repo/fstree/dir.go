package fstree

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"time"
)

// DirOptions control WriteDir. The zero value keeps ownership, extended
// attributes and device nodes, which needs privilege (root, or root in a
// user namespace for the ids it maps).
type DirOptions struct {
	// Epoch is SOURCE_DATE_EPOCH: later mtimes are clamped to it.
	Epoch time.Time
	// IgnoreOwnership leaves everything owned by the calling user instead
	// of failing when the tree's ids cannot be set.
	IgnoreOwnership bool
	// IgnoreXattrs skips extended attributes.
	IgnoreXattrs bool
	// SkipDevices leaves out character and block devices.
	SkipDevices bool
}

// ErrOwnership is returned by WriteDir when the tree's owners cannot be
// kept and DirOptions.IgnoreOwnership is not set.
var ErrOwnership = errors.New("ownership cannot be kept without privilege (set IgnoreOwnership to write anyway)")

// WriteDir materialises the tree in dir, which must be empty or missing.
// Everything is created through an os.Root opened on dir, so no path can
// leave it; symlinks are created as they are and never followed. File
// content, owners, modes (setuid, setgid and sticky included), extended
// attributes and mtimes are kept; directory modes and mtimes are set after
// their contents are written.
func (t *Tree) WriteDir(dir string, opts DirOptions) error {
	if err := t.writeDir(dir, opts); err != nil {
		return fmt.Errorf("fstree: write %s: %w", dir, err)
	}
	return nil
}

func (t *Tree) writeDir(dir string, opts DirOptions) error {
	if !opts.IgnoreOwnership {
		if err := t.checkOwnership(); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if ents, err := os.ReadDir(dir); err != nil {
		return err
	} else if len(ents) > 0 {
		return fmt.Errorf("directory is not empty: %w", fs.ErrExist)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	w := dirWriter{root: root, opts: opts}
	var dirs []Info
	err = t.walkInfo(func(i Info, n *node) error {
		if i.Kind == KindDir {
			if i.Path != "." {
				if err := root.Mkdir(i.Path, 0o700); err != nil {
					return err
				}
			}
			dirs = append(dirs, i)
			return nil
		}
		return w.write(i, n)
	})
	if err != nil {
		return err
	}
	for _, d := range slices.Backward(dirs) {
		if err := w.finish(d); err != nil {
			return err
		}
	}
	return nil
}

// checkOwnership fails early, before anything is written, when the process
// is not root and the tree has nodes owned by someone else.
func (t *Tree) checkOwnership() error {
	uid, gid := os.Geteuid(), os.Getegid()
	if uid == 0 {
		return nil
	}
	return t.Walk(func(i Info) error {
		if i.UID != uid || i.GID != gid {
			return fmt.Errorf("%s is owned by %d:%d and this process runs as %d:%d: %w", i.Path, i.UID, i.GID, uid, gid, ErrOwnership)
		}
		return nil
	})
}

type dirWriter struct {
	root *os.Root
	opts DirOptions
}

func (w *dirWriter) write(i Info, n *node) error {
	switch {
	case i.Link != "":
		return w.root.Link(i.Link, i.Path)
	case i.Kind == KindFile:
		return w.file(i, n)
	case i.Kind == KindSymlink:
		if err := w.root.Symlink(i.Target, i.Path); err != nil {
			return err
		}
	case i.Kind == KindChar || i.Kind == KindBlock:
		if w.opts.SkipDevices {
			return nil
		}
		fallthrough
	case i.Kind == KindFIFO:
		if err := w.mknod(i); err != nil {
			return err
		}
	}
	return w.finish(i)
}

func (w *dirWriter) file(i Info, n *node) error {
	f, err := w.root.OpenFile(i.Path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if n.data.ra == nil {
		_, err = f.Write(n.data.inline)
	} else {
		_, err = io.Copy(f, n.data.reader())
	}
	if err == nil {
		err = w.finishFile(f, i)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s: %w", i.Path, err)
	}
	return nil
}

// finishFile is finish through the open descriptor of a regular file,
// which saves resolving its path four more times.
func (w *dirWriter) finishFile(f *os.File, i Info) error {
	if !w.opts.IgnoreOwnership {
		if err := f.Chown(i.UID, i.GID); err != nil {
			return fmt.Errorf("chown to %d:%d: %w: %w", i.UID, i.GID, ErrOwnership, err)
		}
	}
	if err := f.Chmod(fileMode(i.Mode)); err != nil {
		return err
	}
	if len(i.Xattrs) > 0 && !w.opts.IgnoreXattrs {
		if err := fsetXattrs(f, i); err != nil {
			return err
		}
	}
	return w.futimes(f, i, w.mtime(i))
}

func (w *dirWriter) mtime(i Info) time.Time {
	if !w.opts.Epoch.IsZero() && i.ModTime.After(w.opts.Epoch) {
		return w.opts.Epoch
	}
	return i.ModTime
}

// finish sets owner, mode, extended attributes and mtime, in that order:
// chown clears setuid and setgid bits.
func (w *dirWriter) finish(i Info) error {
	if !w.opts.IgnoreOwnership {
		if err := w.root.Lchown(i.Path, i.UID, i.GID); err != nil {
			return fmt.Errorf("chown %s to %d:%d: %w: %w", i.Path, i.UID, i.GID, ErrOwnership, err)
		}
	}
	if i.Kind != KindSymlink {
		if err := w.root.Chmod(i.Path, fileMode(i.Mode)); err != nil {
			return err
		}
	}
	if len(i.Xattrs) > 0 && !w.opts.IgnoreXattrs {
		if err := w.setXattrs(i); err != nil {
			return err
		}
	}
	return w.chtimes(i, w.mtime(i))
}

// parent opens the directory holding p, for the calls os.Root lacks.
func (w *dirWriter) parent(p string) (*os.File, string, error) {
	f, err := w.root.Open(path.Dir(p))
	if err != nil {
		return nil, "", err
	}
	return f, path.Base(p), nil
}

func fileMode(m uint32) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	if m&0o4000 != 0 {
		mode |= fs.ModeSetuid
	}
	if m&0o2000 != 0 {
		mode |= fs.ModeSetgid
	}
	if m&0o1000 != 0 {
		mode |= fs.ModeSticky
	}
	return mode
}
