//go:build !linux

package fstree

import (
	"errors"
	"fmt"
	"os"
	"time"
)

var errPlatform = errors.New("not supported on this platform")

func (w *dirWriter) mknod(i Info) error {
	return fmt.Errorf("mknod %s: %w", i.Path, errPlatform)
}

func (w *dirWriter) setXattrs(i Info) error {
	return fmt.Errorf("set xattrs on %s: %w", i.Path, errPlatform)
}

func (w *dirWriter) chtimes(i Info, mtime time.Time) error {
	if i.Kind == KindSymlink {
		return nil // no portable lutimes; the symlink keeps the current time
	}
	return w.root.Chtimes(i.Path, mtime, mtime)
}

func fsetXattrs(f *os.File, i Info) error {
	return fmt.Errorf("set xattrs on %s: %w", i.Path, errPlatform)
}

func (w *dirWriter) futimes(_ *os.File, i Info, mtime time.Time) error {
	return w.root.Chtimes(i.Path, mtime, mtime)
}
