package repo

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// LockVersion is the version of the lockfile schema written by WriteLock.
const LockVersion = 1

// MaxLockSize bounds a lockfile read from disk.
const MaxLockSize = 64 << 20

// Lock is the content of rootfs.lock: the request and the exact plan it
// resolved to. A lock is enough to fetch and verify every package again
// (by pool path and SHA256) after the suites have moved on. The schema is
// documented in docs/lockfile.md.
type Lock struct {
	LockVersion int     `json:"lockVersion"`
	Request     Request `json:"request"`
	Plan
}

// NewLock wraps a plan and the request it came from.
func NewLock(req Request, p *Plan) *Lock {
	l := &Lock{LockVersion: LockVersion, Request: req, Plan: *p}
	l.Plan.Packages = append([]Planned(nil), p.Packages...)
	l.Sort()
	return l
}

// Marshal returns the canonical encoding: indented JSON, packages sorted,
// a final newline. The same plan always gives the same bytes.
func (l *Lock) Marshal() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(l); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Digest is the SHA256 of the canonical encoding of the packages, distro,
// architecture and variant: what decides the content of a build. Two locks
// with equal digests build the same tree.
func (l *Lock) Digest() string {
	h := sha256.New()
	fmt.Fprintf(h, "rootfsd-lock-v%d\n%s\n%s\n%s\n%s\n", LockVersion, l.Family, l.Distro, l.Arch, l.Variant)
	for _, p := range l.Packages {
		fmt.Fprintf(h, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", p.Name, p.Version, p.Arch, p.Filename, p.Size, p.SHA256, p.Checksum)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// WriteLock writes l to path atomically (temp file, fsync, rename).
func WriteLock(path string, l *Lock) error {
	data, err := l.Marshal()
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".rootfs.lock-*")
	if err != nil {
		return fmt.Errorf("write lock %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write lock %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write lock %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write lock %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write lock %s: %w", path, err)
	}
	return nil
}

// ReadLock reads and validates a lockfile.
func ReadLock(path string) (*Lock, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read lock: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxLockSize+1))
	if err != nil {
		return nil, fmt.Errorf("read lock %s: %w", path, err)
	}
	if len(data) > MaxLockSize {
		return nil, fmt.Errorf("lock %s is larger than %d bytes", path, MaxLockSize)
	}
	l, err := ParseLock(data)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return l, nil
}

var (
	hex64      = regexp.MustCompile(`^[0-9a-f]{64}$`)
	safeName   = regexp.MustCompile(`^[a-z0-9][a-z0-9+._-]*$`)
	safeString = regexp.MustCompile(`^[^\x00-\x1f]*$`)
)

// ParseLock decodes and validates a lockfile. Unknown fields are errors:
// a lock is a security boundary (it names the hashes a build trusts).
func ParseLock(data []byte) (*Lock, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var l Lock
	if err := dec.Decode(&l); err != nil {
		return nil, fmt.Errorf("not a valid lockfile: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("not a valid lockfile: trailing data after the JSON object")
	}
	if l.LockVersion != LockVersion {
		return nil, fmt.Errorf("lockVersion %d is not supported (this rootfsd reads version %d); run rootfsd lock again", l.LockVersion, LockVersion)
	}
	if l.Family != FamilyDeb && l.Family != FamilyAPK {
		return nil, fmt.Errorf("unknown family %q", l.Family)
	}
	if len(l.Packages) == 0 {
		return nil, fmt.Errorf("no packages")
	}
	seen := map[string]bool{}
	for i, p := range l.Packages {
		where := fmt.Sprintf("package %d (%s)", i+1, p.Name)
		switch {
		case !safeName.MatchString(p.Name):
			return nil, fmt.Errorf("%s: invalid name", where)
		case p.Version == "" || !safeString.MatchString(p.Version) || strings.ContainsAny(p.Version, " /"):
			return nil, fmt.Errorf("%s: invalid version %q", where, p.Version)
		case !safePath(p.Filename):
			return nil, fmt.Errorf("%s: filename %q must be a relative path without \"..\"", where, p.Filename)
		case p.Size < 0:
			return nil, fmt.Errorf("%s: negative size", where)
		case l.Family == FamilyDeb && !hex64.MatchString(p.SHA256):
			return nil, fmt.Errorf("%s: sha256 must be 64 lower-case hex digits", where)
		case l.Family == FamilyAPK && p.Checksum == "" && p.SHA256 == "":
			return nil, fmt.Errorf("%s: no checksum", where)
		case seen[p.Name+"/"+p.Arch]:
			return nil, fmt.Errorf("%s: listed twice", where)
		}
		seen[p.Name+"/"+p.Arch] = true
	}
	return &l, nil
}

func safePath(p string) bool {
	if p == "" || strings.HasPrefix(p, "/") || strings.Contains(p, "\\") || !safeString.MatchString(p) {
		return false
	}
	for _, el := range strings.Split(p, "/") {
		if el == ".." || el == "." || el == "" {
			return false
		}
	}
	return true
}
