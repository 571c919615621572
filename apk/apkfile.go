package apk

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Expect is what an index promises about a package file.
type Expect struct {
	// Checksum is the index's C: field. Empty accepts any control member
	// that a trusted key signed (a package given on the command line).
	Checksum string
	// Size is the index's S: field; 0 leaves the size unchecked.
	Size int64
	// Name and Version, when set, must match .PKGINFO.
	Name, Version string
}

// Script is a maintainer script of the control member.
type Script struct {
	Name    string // "post-install", "trigger", ... (without the dot)
	Data    []byte
	ModTime time.Time
}

// scriptNames are the scripts apk-tools knows, in its order (the order of
// scripts.tar entries).
func scriptNames() []string {
	return []string{"pre-install", "post-install", "pre-deinstall", "post-deinstall", "pre-upgrade", "post-upgrade", "trigger"}
}

// PackageFile is a verified .apk: its metadata and the list of what it
// installs.
type PackageFile struct {
	Info     *PKGINFO
	Checksum string // C: computed from the control member
	Signer   string // key file name whose signature verified
	Size     int64  // file size
	Scripts  []Script
	// Entries are the installable entries in archive order: top-level dot
	// entries (.PKGINFO, .dummy, signatures) and .keep_* files left out.
	Entries []Entry
}

// Script returns the script called name ("post-install"), or nil.
func (p *PackageFile) Script(name string) []byte {
	for _, s := range p.Scripts {
		if s.Name == name {
			return s.Data
		}
	}
	return nil
}

// Entry is one installable entry of the data tar.
type Entry struct {
	// Header has a clean relative name (no trailing slash), owner, mode,
	// link target and the PAX records, including SCHILY.xattr.* ones.
	Header *tar.Header
	// Checksum is the verified Q1 SHA-1 of the content (regular files), of
	// the link target (symlinks) or of the linked file (hard links); empty
	// for directories and devices. It is the Z: of the installed database.
	Checksum string
	// XattrChecksum is apk's Q1 digest of the extended attributes, empty
	// when there are none.
	XattrChecksum string
}

// EntryFunc receives each installable entry; r yields a regular file's
// content (empty otherwise). The content is checked against its embedded
// SHA-1 after fn returns, and the whole data member against .PKGINFO's
// datahash only at the end: fn must write into something it can discard
// when ReadPackage fails (an fstree transaction).
type EntryFunc func(hdr *tar.Header, r io.Reader) error

// VerifyPackage reads a whole .apk and checks it as ReadPackage does.
func VerifyPackage(ctx context.Context, r io.Reader, keys *Keyring, want Expect, lim Limits) (*PackageFile, error) {
	return ReadPackage(ctx, r, keys, want, lim, nil)
}

// ReadPackage streams an .apk (v2): three gzip members, the signature, the
// control tar (.PKGINFO and scripts) and the data tar. It checks that a
// trusted key signed the control member, that the control member's SHA-1
// is want.Checksum, that the data member's SHA-256 is .PKGINFO's datahash,
// that every file and symlink matches its APK-TOOLS.checksum.SHA1 record,
// and the size limits. fn may be nil.
func ReadPackage(ctx context.Context, r io.Reader, keys *Keyring, want Expect, lim Limits, fn EntryFunc) (*PackageFile, error) {
	return readPackage(ctx, r, keys, want, lim, nil, fn)
}

// readPackage is ReadPackage with a hook called once the control member is
// verified and parsed, before the first data entry.
func readPackage(ctx context.Context, r io.Reader, keys *Keyring, want Expect, lim Limits,
	onControl func(*PackageFile) error, fn EntryFunc) (*PackageFile, error) {
	lim = lim.withDefaults()
	what := "apk: package"
	if want.Name != "" {
		what += " " + want.Name + "-" + want.Version
	}
	m := newMeter(r, lim.PackageSize)
	zr, err := gzip.NewReader(m)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: not a gzip stream: %w", what, ErrFormat, err)
	}
	zr.Multistream(false)
	sigMember, err := readAllLimited(zr, lim.SignatureSize, what+": signature member")
	if err != nil {
		return nil, wrapRead(what, err)
	}
	sigs, err := parseSignatures(sigMember, what)
	if err != nil {
		return nil, err
	}

	// The control member, hashed raw for C: and the signature.
	h1, h256 := sha1.New(), sha256.New()
	m.setSink(io.MultiWriter(h1, h256))
	if err := zr.Reset(m); err != nil {
		return nil, fmt.Errorf("%s: control member: %w", what, wrapRead(what, err))
	}
	zr.Multistream(false)
	control, err := readAllLimited(zr, lim.ControlSize, what+": control member")
	if err != nil {
		return nil, wrapRead(what, err)
	}
	m.setSink(nil)
	pf := &PackageFile{Checksum: FormatQ1(h1.Sum(nil))}
	if want.Checksum != "" && pf.Checksum != want.Checksum {
		return nil, fmt.Errorf("%s: control member: %w: C: is %s, the index says %s", what, ErrChecksum, pf.Checksum, want.Checksum)
	}
	if pf.Signer, err = verifySignatures(sigs, keys, digests{sha1: h1.Sum(nil), sha256: h256.Sum(nil)}, what); err != nil {
		return nil, err
	}
	if err := pf.readControl(control, want, lim, what); err != nil {
		return nil, err
	}
	if onControl != nil {
		if err := onControl(pf); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
	}

	// The data member: everything after the control member.
	hd := sha256.New()
	m.setSink(hd)
	if err := zr.Reset(m); err != nil {
		return nil, fmt.Errorf("%s: data member: %w", what, wrapRead(what, err))
	}
	if err := pf.readData(ctx, zr, lim, what, fn); err != nil {
		return nil, err
	}
	if _, err := io.Copy(io.Discard, zr); err != nil { // gzip trailer
		return nil, fmt.Errorf("%s: data member: %w", what, wrapRead(what, err))
	}
	if !m.atEOF() {
		return nil, fmt.Errorf("%s: %w: bytes after the data member", what, ErrFormat)
	}
	m.setSink(nil)
	if got := hex.EncodeToString(hd.Sum(nil)); got != pf.Info.DataHash {
		return nil, fmt.Errorf("%s: data member: %w: sha256 %s, .PKGINFO datahash %s", what, ErrChecksum, got, pf.Info.DataHash)
	}
	pf.Size = m.n
	if want.Size > 0 && m.n != want.Size {
		return nil, fmt.Errorf("%s: %w: %d bytes, the index says %d", what, ErrChecksum, m.n, want.Size)
	}
	return pf, nil
}

// wrapRead turns decompression errors into ErrFormat; limits and I/O
// errors keep their identity.
func wrapRead(what string, err error) error {
	if errors.Is(err, ErrTooLarge) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if errors.Is(err, gzip.ErrHeader) || errors.Is(err, gzip.ErrChecksum) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, io.EOF) || strings.Contains(err.Error(), "flate") {
		return fmt.Errorf("%w: %w", ErrFormat, err)
	}
	return err
}

// readControl parses the verified control tar.
func (pf *PackageFile) readControl(control []byte, want Expect, lim Limits, what string) error {
	tr := tar.NewReader(bytes.NewReader(control))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: control tar: %w: %w", what, ErrFormat, err)
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		data, err := readAllLimited(tr, lim.ControlSize, what+": "+hdr.Name)
		if err != nil {
			return err
		}
		if hdr.Name == ".PKGINFO" {
			if pf.Info != nil {
				return fmt.Errorf("%s: %w: two .PKGINFO entries", what, ErrFormat)
			}
			if pf.Info, err = ParsePKGINFO(data, lim); err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
			continue
		}
		if name, ok := strings.CutPrefix(hdr.Name, "."); ok && contains(scriptNames(), name) {
			pf.Scripts = append(pf.Scripts, Script{Name: name, Data: data, ModTime: hdr.ModTime})
		}
	}
	switch {
	case pf.Info == nil:
		return fmt.Errorf("%s: %w: no .PKGINFO", what, ErrFormat)
	case pf.Info.DataHash == "":
		return fmt.Errorf("%s: %w: .PKGINFO has no datahash", what, ErrFormat)
	case want.Name != "" && (pf.Info.Name != want.Name || pf.Info.Version != want.Version):
		return fmt.Errorf("%s: %w: .PKGINFO names %s-%s", what, ErrChecksum, pf.Info.Name, pf.Info.Version)
	}
	return nil
}
