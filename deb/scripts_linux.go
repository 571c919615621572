package deb

import (
	"os"
	"syscall"
	"time"

	"github.com/rootfsd/rootfsd/repo/fstree"
)

// fileAttr is the tree metadata of a file the sandbox left: mode, owner,
// mtime (clamped to epoch, as every generated file's).
func fileAttr(fi os.FileInfo, epoch time.Time) fstree.Attr {
	a := fstree.Attr{Mode: uint32(fi.Mode().Perm()), ModTime: fi.ModTime()}
	if fi.Mode()&os.ModeSetuid != 0 {
		a.Mode |= 0o4000
	}
	if fi.Mode()&os.ModeSetgid != 0 {
		a.Mode |= 0o2000
	}
	if fi.Mode()&os.ModeSticky != 0 {
		a.Mode |= 0o1000
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		a.UID, a.GID = int(st.Uid), int(st.Gid)
	}
	if a.ModTime.After(epoch) {
		a.ModTime = epoch
	}
	return a
}

// fileHasOwner reports whether fi carries a numeric owner.
func fileHasOwner(fi os.FileInfo) bool {
	_, ok := fi.Sys().(*syscall.Stat_t)
	return ok
}
