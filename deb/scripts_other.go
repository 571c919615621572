//go:build !linux

package deb

import (
	"os"
	"time"

	"github.com/rootfsd/rootfsd/repo/fstree"
)

// fileAttr is the tree metadata of a file the sandbox left. Other systems
// have no sandbox; this only keeps the package buildable there.
func fileAttr(fi os.FileInfo, epoch time.Time) fstree.Attr {
	a := fstree.Attr{Mode: uint32(fi.Mode().Perm()), ModTime: fi.ModTime()}
	if a.ModTime.After(epoch) {
		a.ModTime = epoch
	}
	return a
}

func fileHasOwner(os.FileInfo) bool { return false }
