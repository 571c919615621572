// Package fstree is an in-memory model of a root filesystem: package
// contents are unpacked into a Tree, configure steps edit it, and it is
// finally written out as a deterministic tar layer (WriteTar) or
// materialised into a directory (WriteDir). It knows no package format:
// deb and apk feed it tar headers and readers and tag every node with the
// name of the package that put it there, so that file lists (dpkg's
// info/*.list, apk's installed database) can be built from it.
//
// Every path is resolved inside the tree the way the kernel resolves a path
// inside a chroot: symlinks in parent components are followed, absolute
// targets and ".." are clamped to the root, and nothing is ever written
// through a symlink to outside the tree because there is no outside. Paths
// taken from archives (Add) are stricter still: ".." components and absolute
// names are rejected, and an archive may not write through a symlink that it
// shipped itself. File content is kept in memory when small, and larger content
// too while a budget lasts (Options.MemoryMax); the rest spills into an
// unlinked temporary spool file, so a tree of gigabytes costs memory only
// for its metadata and that budget. Changes can be grouped in a Txn and undone,
// so that a package that fails to unpack leaves the tree as it was.
package fstree
