package check

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
)

// maxLinks bounds the symlinks followed for one path, as the kernel's
// ELOOP limit does.
const maxLinks = 40

var errLoop = errors.New("too many levels of symbolic links")

// resolve returns the path p reaches inside fsys, and what it is, following
// symlinks the way the kernel does in a chroot: absolute targets restart at
// the root and ".." stops there. With followLast false a final symlink is
// returned as itself (lstat); intermediate ones are always followed. p may
// be absolute ("/usr/bin/env") or relative to the root.
func resolve(fsys fs.ReadLinkFS, p string, followLast bool) (string, fs.FileInfo, error) {
	todo := splitPath(p)
	var cur []string
	links := 0
	for len(todo) > 0 {
		comp := todo[0]
		todo = todo[1:]
		switch comp {
		case "", ".":
			continue
		case "..":
			if len(cur) > 0 {
				cur = cur[:len(cur)-1]
			}
			continue
		}
		cand := strings.Join(append(cur[:len(cur):len(cur)], comp), "/")
		fi, err := fsys.Lstat(cand)
		if err != nil {
			return cand, nil, err
		}
		last := len(todo) == 0
		if fi.Mode()&fs.ModeSymlink != 0 && (!last || followLast) {
			if links++; links > maxLinks {
				return cand, nil, &fs.PathError{Op: "resolve", Path: p, Err: errLoop}
			}
			target, err := fsys.ReadLink(cand)
			if err != nil {
				return cand, nil, err
			}
			if strings.HasPrefix(target, "/") {
				cur = nil
			}
			todo = append(splitPath(target), todo...)
			continue
		}
		if !last && !fi.IsDir() {
			return cand, nil, &fs.PathError{Op: "resolve", Path: p, Err: fmt.Errorf("%s is not a directory", cand)}
		}
		cur = append(cur, comp)
	}
	if len(cur) == 0 {
		fi, err := fsys.Lstat(".")
		return ".", fi, err
	}
	real := strings.Join(cur, "/")
	fi, err := fsys.Lstat(real)
	return real, fi, err
}

func splitPath(p string) []string {
	return strings.Split(strings.Trim(p, "/"), "/")
}

// abs turns a tree path ("usr/bin/env", ".") into the absolute form used
// in messages ("/usr/bin/env", "/").
func abs(p string) string {
	if p == "." || p == "" {
		return "/"
	}
	return "/" + strings.TrimPrefix(p, "/")
}

// stat follows p and reports whether it is a regular file, a directory, or
// missing. A dangling symlink or a loop counts as missing.
func stat(fsys fs.ReadLinkFS, p string) (string, fs.FileInfo, bool) {
	real, fi, err := resolve(fsys, p, true)
	if err != nil || fi == nil {
		return real, nil, false
	}
	return real, fi, true
}

// readerAt is what ELF parsing needs from a file.
type readerAt interface {
	io.ReaderAt
	io.Closer
}

// maxBuffered bounds a file read into memory because its fs.File has no
// ReadAt (os.DirFS and TreeFS files have one, so this is rare).
const maxBuffered = 256 << 20

type bufferedFile struct {
	*strings.Reader
}

func (bufferedFile) Close() error { return nil }

// openAt opens the resolved path real for random access.
func openAt(fsys fs.FS, real string) (readerAt, int64, error) {
	f, err := fsys.Open(real)
	if err != nil {
		return nil, 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	if ra, ok := f.(readerAt); ok {
		return ra, fi.Size(), nil
	}
	defer f.Close()
	if fi.Size() > maxBuffered {
		return nil, 0, fmt.Errorf("%s: %d bytes is larger than the %d this check reads", abs(real), fi.Size(), maxBuffered)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxBuffered+1))
	if err != nil {
		return nil, 0, err
	}
	return bufferedFile{strings.NewReader(string(data))}, int64(len(data)), nil
}

// readSmall reads a small text file (passwd, ld.so.conf, os-release) at p,
// following symlinks; missing or oversized files read as nil.
func readSmall(fsys fs.ReadLinkFS, p string, limit int64) []byte {
	real, fi, ok := stat(fsys, p)
	if !ok || !fi.Mode().IsRegular() || fi.Size() > limit {
		return nil
	}
	data, err := fs.ReadFile(fsys, real)
	if err != nil || int64(len(data)) > limit {
		return nil
	}
	return data
}

// dirOf is path.Dir for tree paths.
func dirOf(p string) string { return path.Dir(p) }
