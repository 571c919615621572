package overlay

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/rootfsd/rootfsd/repo/fstree"
)

// Limits on what an overlay carries.
const (
	MaxFileSize  = 512 << 20
	MaxTotalSize = 2 << 30
)

// Overlay is applied after the packages, in field order.
type Overlay struct {
	Groups []Group `json:"groups,omitempty"`
	Users  []User  `json:"users,omitempty"`
	Paths  []Path  `json:"paths,omitempty"`
	Files  []File  `json:"files,omitempty"`
}

// Group is a group to add. GID -1 picks the first free id from 1000.
type Group struct {
	Name string `json:"name"`
	GID  int    `json:"gid"`
}

// User is an account to add. UID -1 picks the first free id from 1000.
// Group is the primary group (default: a new group named like the user);
// Groups are supplementary groups, which must exist; Home defaults to
// /home/NAME and is created; Shell defaults to /bin/sh.
type User struct {
	Name   string   `json:"name"`
	UID    int      `json:"uid"`
	Group  string   `json:"group,omitempty"`
	Groups []string `json:"groups,omitempty"`
	Home   string   `json:"home,omitempty"`
	Shell  string   `json:"shell,omitempty"`
}

// Path types.
const (
	Directory = "directory"
	Symlink   = "symlink"
)

// Path creates a directory or symlink, or (Type "") changes the mode or
// owner of an existing path.
type Path struct {
	Path string `json:"path"`
	Type string `json:"type,omitempty"`
	// Mode is set when HasMode; directories default to 0755.
	Mode    uint32 `json:"mode,omitempty"`
	HasMode bool   `json:"hasMode,omitempty"`
	// Owner is "USER[:GROUP]", names (looked up in the tree) or numbers.
	Owner  string `json:"owner,omitempty"`
	Target string `json:"target,omitempty"`
}

// File is a regular file to write. Mode 0 means 0644.
type File struct {
	Dest  string `json:"dest"`
	Mode  uint32 `json:"mode,omitempty"`
	Owner string `json:"owner,omitempty"`
	Data  []byte `json:"data"`
	// Src says where the data came from, for messages.
	Src string `json:"src,omitempty"`
}

// Empty reports whether the overlay changes nothing.
func (o *Overlay) Empty() bool {
	return o == nil || len(o.Groups)+len(o.Users)+len(o.Paths)+len(o.Files) == 0
}

// Digest is the SHA256 of the overlay's canonical JSON: two overlays with
// equal digests change a tree the same way.
func (o *Overlay) Digest() string {
	if o.Empty() {
		return ""
	}
	c := *o
	for i := range c.Files {
		c.Files[i].Src = ""
	}
	data, _ := json.Marshal(c)
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// Check validates the overlay without a tree: names, absolute paths,
// sizes, known types.
func (o *Overlay) Check() error {
	var total int64
	for _, g := range o.Groups {
		if !validName(g.Name) {
			return fmt.Errorf("group %q: the name must match [a-z_][a-z0-9_-]*", g.Name)
		}
	}
	for _, u := range o.Users {
		if !validName(u.Name) {
			return fmt.Errorf("user %q: the name must match [a-z_][a-z0-9_-]*", u.Name)
		}
		for _, p := range []string{u.Home, u.Shell} {
			if p != "" && !path.IsAbs(p) {
				return fmt.Errorf("user %s: %q must be an absolute path", u.Name, p)
			}
		}
	}
	for _, p := range o.Paths {
		if !path.IsAbs(p.Path) || path.Clean(p.Path) == "/" {
			return fmt.Errorf("path %q: must be absolute and not /", p.Path)
		}
		switch p.Type {
		case "", Directory:
		case Symlink:
			if p.Target == "" {
				return fmt.Errorf("path %s: a symlink needs a target", p.Path)
			}
		default:
			return fmt.Errorf("path %s: type %q: use directory or symlink (or leave it out to change an existing path)", p.Path, p.Type)
		}
		if p.Type != Symlink && p.Target != "" {
			return fmt.Errorf("path %s: target is only for type symlink", p.Path)
		}
	}
	for _, f := range o.Files {
		if !path.IsAbs(f.Dest) || strings.HasSuffix(f.Dest, "/") {
			return fmt.Errorf("file %s: dest %q must be an absolute file path", f.Src, f.Dest)
		}
		if len(f.Data) > MaxFileSize {
			return fmt.Errorf("file %s: larger than %d bytes", f.Src, MaxFileSize)
		}
		if total += int64(len(f.Data)); total > MaxTotalSize {
			return fmt.Errorf("files: more than %d bytes in all", int64(MaxTotalSize))
		}
	}
	return nil
}

func validName(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i, r := range s {
		ok := r >= 'a' && r <= 'z' || r == '_' || i > 0 && (r >= '0' && r <= '9' || r == '-')
		if !ok {
			return false
		}
	}
	return true
}

// Options configure Apply.
type Options struct {
	// Epoch is the mtime of everything created (SOURCE_DATE_EPOCH).
	Epoch time.Time
}

// Apply edits t: groups, users, paths, files, in that order.
func (o *Overlay) Apply(t *fstree.Tree, opts Options) error {
	if o.Empty() {
		return nil
	}
	if err := o.Check(); err != nil {
		return fmt.Errorf("overlay: %w", err)
	}
	a := &applier{t: t, epoch: opts.Epoch}
	for _, g := range o.Groups {
		if err := a.addGroup(g.Name, g.GID, true); err != nil {
			return fmt.Errorf("overlay: group %s: %w", g.Name, err)
		}
	}
	for _, u := range o.Users {
		if err := a.addUser(u); err != nil {
			return fmt.Errorf("overlay: user %s: %w", u.Name, err)
		}
	}
	for _, p := range o.Paths {
		if err := a.path(p); err != nil {
			return fmt.Errorf("overlay: path %s: %w", p.Path, err)
		}
	}
	for _, f := range o.Files {
		if err := a.file(f); err != nil {
			return fmt.Errorf("overlay: file %s: %w", f.Dest, err)
		}
	}
	return nil
}
