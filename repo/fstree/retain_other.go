//go:build !unix

package fstree

import "os"

// SameVersion compares what the platform tells portably: size and
// modification time.
func SameVersion(a, b os.FileInfo) bool {
	return os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}
