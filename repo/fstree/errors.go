package fstree

import (
	"errors"
	"io/fs"
)

// Errors callers may branch on with errors.Is. Missing and existing paths
// wrap fs.ErrNotExist and fs.ErrExist.
var (
	// ErrUnsafePath is a path from an archive that is absolute, contains a
	// ".." component, a NUL byte, or is too long.
	ErrUnsafePath = errors.New("unsafe path")
	// ErrNotDir is a non-directory used as a directory.
	ErrNotDir = errors.New("not a directory")
	// ErrIsDir is a directory where something else is required.
	ErrIsDir = errors.New("is a directory")
	// ErrNotEmpty is a non-empty directory that would be removed or replaced.
	ErrNotEmpty = errors.New("directory not empty")
	// ErrLoop is a path that follows too many symlinks.
	ErrLoop = errors.New("too many levels of symbolic links")
	// ErrBadLink is a hard link whose target is missing or not a regular file.
	ErrBadLink = errors.New("hard link target is not a regular file in the tree")
	// ErrOwnSymlink is an archive entry whose parent path follows a symlink
	// the same owner created: the classic symlink-then-write attack.
	ErrOwnSymlink = errors.New("parent path follows a symlink of the same owner")
	// ErrUnsupported is a tar entry type the tree cannot hold.
	ErrUnsupported = errors.New("unsupported entry type")
	// ErrInvalid is an operation that makes no sense, such as moving a
	// directory into itself.
	ErrInvalid = fs.ErrInvalid
)
