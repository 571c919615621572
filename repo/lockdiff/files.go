package lockdiff

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strings"

	"github.com/rootfsd/rootfsd/repo/fstree"
)

// File is one path that differs between two trees.
type File struct {
	Path string `json:"path"`
	// Kind is Added, Removed, or "modified".
	Kind ChangeKind `json:"kind"`
	// What lists what changed: "content", "mode 0644 -> 0755",
	// "owner 0:0 -> 1000:1000", "type file -> symlink", "target a -> b".
	What []string `json:"what,omitempty"`
}

// Modified is the kind of a File present in both trees but different.
const Modified ChangeKind = "modified"

type entry struct {
	typ      fs.FileMode
	mode     fs.FileMode
	size     int64
	target   string
	owner    string
	hasOwner bool
}

// Trees compares every path of two trees. Content is compared by SHA256
// when type and size agree; ownership where the view knows it (an
// unpacked tar or image does; a directory written by an unprivileged
// user does not keep it, so it is not compared there).
func Trees(ctx context.Context, a, b fs.ReadLinkFS) ([]File, error) {
	ea, err := list(ctx, a)
	if err != nil {
		return nil, fmt.Errorf("lockdiff: first tree: %w", err)
	}
	eb, err := list(ctx, b)
	if err != nil {
		return nil, fmt.Errorf("lockdiff: second tree: %w", err)
	}
	var out []File
	for p, x := range ea {
		y, ok := eb[p]
		if !ok {
			out = append(out, File{Path: "/" + p, Kind: Removed})
			continue
		}
		what, err := compare(a, b, p, x, y)
		if err != nil {
			return nil, err
		}
		if len(what) > 0 {
			out = append(out, File{Path: "/" + p, Kind: Modified, What: what})
		}
	}
	for p := range eb {
		if _, ok := ea[p]; !ok {
			out = append(out, File{Path: "/" + p, Kind: Added})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, ctx.Err()
}

func list(ctx context.Context, fsys fs.ReadLinkFS) (map[string]entry, error) {
	m := map[string]entry{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if p == "." {
			return nil
		}
		fi, err := fsys.Lstat(p)
		if err != nil {
			return err
		}
		e := entry{typ: fi.Mode().Type(), mode: fi.Mode() &^ fs.ModeType, size: fi.Size()}
		if e.typ == fs.ModeSymlink {
			if e.target, err = fsys.ReadLink(p); err != nil {
				return err
			}
		}
		if e.typ != 0 {
			e.size = 0
		}
		if i, ok := fi.Sys().(fstree.Info); ok {
			e.owner, e.hasOwner = fmt.Sprintf("%d:%d", i.UID, i.GID), true
		}
		m[p] = e
		return nil
	})
	return m, err
}

func compare(a, b fs.FS, p string, x, y entry) ([]string, error) {
	var what []string
	if x.typ != y.typ {
		return []string{fmt.Sprintf("type %s -> %s", typeName(x.typ), typeName(y.typ))}, nil
	}
	if x.mode != y.mode {
		what = append(what, fmt.Sprintf("mode %s -> %s", octal(x.mode), octal(y.mode)))
	}
	if x.hasOwner && y.hasOwner && x.owner != y.owner {
		what = append(what, fmt.Sprintf("owner %s -> %s", x.owner, y.owner))
	}
	if x.target != y.target {
		what = append(what, fmt.Sprintf("target %s -> %s", x.target, y.target))
	}
	if x.typ == 0 {
		same := x.size == y.size
		if same {
			ha, err := hashFile(a, p)
			if err != nil {
				return nil, err
			}
			hb, err := hashFile(b, p)
			if err != nil {
				return nil, err
			}
			same = ha == hb
		}
		if !same {
			what = append(what, fmt.Sprintf("content (%d -> %d bytes)", x.size, y.size))
		}
	}
	return what, nil
}

func hashFile(fsys fs.FS, p string) ([32]byte, error) {
	var sum [32]byte
	f, err := fsys.Open(p)
	if err != nil {
		return sum, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return sum, fmt.Errorf("read %s: %w", p, err)
	}
	copy(sum[:], h.Sum(nil))
	return sum, nil
}

func typeName(m fs.FileMode) string {
	switch {
	case m == 0:
		return "file"
	case m&fs.ModeDir != 0:
		return "directory"
	case m&fs.ModeSymlink != 0:
		return "symlink"
	case m&fs.ModeNamedPipe != 0:
		return "fifo"
	case m&fs.ModeDevice != 0:
		return "device"
	}
	return strings.TrimSpace(m.String())
}

func octal(m fs.FileMode) string {
	n := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		n |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		n |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		n |= 0o1000
	}
	return fmt.Sprintf("%04o", n)
}
