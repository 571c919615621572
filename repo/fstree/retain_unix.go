//go:build unix

package fstree

import (
	"os"
	"syscall"
)

// SameVersion reports whether a and b describe the same file with the
// same contents as far as the kernel tells: device, inode, size,
// modification and change time (a write, truncate or chmod changes the
// change time; nothing unprivileged sets it back).
func SameVersion(a, b os.FileInfo) bool {
	sa, ok1 := a.Sys().(*syscall.Stat_t)
	sb, ok2 := b.Sys().(*syscall.Stat_t)
	if !ok1 || !ok2 {
		return false
	}
	return sa.Dev == sb.Dev && sa.Ino == sb.Ino && sa.Size == sb.Size && sa.Mtim == sb.Mtim && sa.Ctim == sb.Ctim
}
