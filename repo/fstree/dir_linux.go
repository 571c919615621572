package fstree

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// mknod creates a device or fifo below its parent's descriptor, which was
// opened through the os.Root and so cannot be outside it.
func (w *dirWriter) mknod(i Info) error {
	dir, name, err := w.parent(i.Path)
	if err != nil {
		return err
	}
	defer dir.Close()
	mode := uint32(unix.S_IFIFO)
	switch i.Kind {
	case KindChar:
		mode = unix.S_IFCHR
	case KindBlock:
		mode = unix.S_IFBLK
	}
	dev := unix.Mkdev(uint32(i.Devmajor), uint32(i.Devminor))
	if err := unix.Mknodat(int(dir.Fd()), name, mode|0o600, int(dev)); err != nil {
		return fmt.Errorf("mknod %s: %w", i.Path, err)
	}
	return nil
}

// setXattrs sets extended attributes through a descriptor (files and
// directories) or the parent's descriptor (everything else, not followed).
func (w *dirWriter) setXattrs(i Info) error {
	if i.Kind == KindFile || i.Kind == KindDir {
		f, err := w.root.Open(i.Path)
		if err != nil {
			return err
		}
		defer f.Close()
		return fsetXattrs(f, i)
	}
	dir, name, err := w.parent(i.Path)
	if err != nil {
		return err
	}
	defer dir.Close()
	p := "/proc/self/fd/" + strconv.Itoa(int(dir.Fd())) + "/" + name
	for _, k := range sortedKeys(i.Xattrs) {
		if err := unix.Lsetxattr(p, k, []byte(i.Xattrs[k]), 0); err != nil {
			return fmt.Errorf("set xattr %s on %s: %w", k, i.Path, err)
		}
	}
	return nil
}

// chtimes sets atime and mtime without following a symlink.
func (w *dirWriter) chtimes(i Info, mtime time.Time) error {
	if i.Kind != KindSymlink {
		return w.root.Chtimes(i.Path, mtime, mtime)
	}
	dir, name, err := w.parent(i.Path)
	if err != nil {
		return err
	}
	defer dir.Close()
	ts := []unix.Timespec{unix.NsecToTimespec(mtime.UnixNano()), unix.NsecToTimespec(mtime.UnixNano())}
	if err := unix.UtimesNanoAt(int(dir.Fd()), name, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("set times of %s: %w", i.Path, err)
	}
	return nil
}

func fsetXattrs(f *os.File, i Info) error {
	for _, k := range sortedKeys(i.Xattrs) {
		if err := unix.Fsetxattr(int(f.Fd()), k, []byte(i.Xattrs[k]), 0); err != nil {
			return fmt.Errorf("set xattr %s on %s: %w", k, i.Path, err)
		}
	}
	return nil
}

func (w *dirWriter) futimes(f *os.File, i Info, mtime time.Time) error {
	ts := []unix.Timespec{unix.NsecToTimespec(mtime.UnixNano()), unix.NsecToTimespec(mtime.UnixNano())}
	if err := unix.UtimesNanoAt(int(f.Fd()), "", ts, unix.AT_EMPTY_PATH); err != nil {
		return fmt.Errorf("set times of %s: %w", i.Path, err)
	}
	return nil
}
