package apk

import (
	"archive/tar"
	"context"
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
)

// paxChecksum is the PAX record abuild stores each file's SHA-1 in.
const paxChecksum = "APK-TOOLS.checksum.SHA1"

// readData reads the data tar, checking every entry, and hands the
// installable ones to fn.
func (pf *PackageFile) readData(ctx context.Context, zr io.Reader, lim Limits, what string, fn EntryFunc) error {
	cr := &countingReader{r: zr, max: lim.DataSize}
	tr := tar.NewReader(cr)
	sums := map[string]string{} // entry name -> checksum, for hard links
	for count := 0; ; count++ {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			if cr.over {
				return fmt.Errorf("%s: data tar: %w of %d bytes", what, ErrTooLarge, lim.DataSize)
			}
			return fmt.Errorf("%s: data tar: %w", what, wrapRead(what, err))
		}
		if count >= lim.Entries {
			return fmt.Errorf("%s: data tar: %w of %d entries", what, ErrTooLarge, lim.Entries)
		}
		if len(hdr.Name) > lim.PathLength || len(hdr.Linkname) > lim.PathLength {
			return fmt.Errorf("%s: data tar: entry %q: %w: path longer than %d bytes", what, clip(hdr.Name), ErrTooLarge, lim.PathLength)
		}
		if first, _, _ := strings.Cut(hdr.Name, "/"); strings.HasPrefix(first, ".") && first != "." && first != ".." {
			continue // .PKGINFO, .SIGN.*, .dummy: top-level dot entries are never installed
		}
		name, err := entryName(hdr.Name)
		if err != nil {
			return fmt.Errorf("%s: data tar: %w", what, err)
		}
		e, err := pf.readEntry(tr, hdr, name, sums, fn, what)
		if err != nil {
			return err
		}
		if e != nil {
			sums[name] = e.Checksum
			pf.Entries = append(pf.Entries, *e)
		}
	}
}

// readEntry checks one entry and passes it to fn; nil for an entry that
// is not installed (.keep_* files).
func (pf *PackageFile) readEntry(tr *tar.Reader, hdr *tar.Header, name string, sums map[string]string, fn EntryFunc, what string) (*Entry, error) {
	h := *hdr
	h.Name = name
	e := &Entry{Header: &h}
	want := strings.ToLower(hdr.PAXRecords[paxChecksum])
	where := fmt.Sprintf("%s: %s", what, name)
	call := func(body io.Reader) error {
		if fn == nil {
			return nil
		}
		hc := h
		if err := fn(&hc, body); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		return nil
	}
	var sum []byte
	switch hdr.Typeflag {
	case tar.TypeReg:
		if strings.HasPrefix(path.Base(name), ".keep_") {
			return nil, nil
		}
		sh := sha1.New()
		body := io.TeeReader(tr, sh)
		if err := call(body); err != nil {
			return nil, err
		}
		if _, err := io.Copy(io.Discard, body); err != nil {
			return nil, fmt.Errorf("%s: %w", where, wrapRead(what, err))
		}
		sum = sh.Sum(nil)
	case tar.TypeSymlink:
		s := sha1.Sum([]byte(hdr.Linkname))
		sum = s[:]
	case tar.TypeLink:
		target, err := entryName(hdr.Linkname)
		if err != nil {
			return nil, fmt.Errorf("%s: hard link: %w", where, err)
		}
		q, ok := sums[target]
		if !ok {
			return nil, fmt.Errorf("%s: %w: hard link target %s is not earlier in the package", where, ErrFormat, target)
		}
		h.Linkname = target
		e.Checksum = q
		if want != "" {
			if wq, err := hexToQ1(want); err != nil || wq != q {
				return nil, fmt.Errorf("%s: %w: hard link checksum differs from its target's", where, ErrChecksum)
			}
		}
	case tar.TypeDir, tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
	default:
		return nil, fmt.Errorf("%s: %w: unsupported tar entry type %q", where, ErrFormat, hdr.Typeflag)
	}
	if sum != nil {
		if want == "" {
			return nil, fmt.Errorf("%s: %w: no %s record", where, ErrChecksum, paxChecksum)
		}
		if got := hex.EncodeToString(sum); got != want {
			return nil, fmt.Errorf("%s: %w: sha1 %s, the archive records %s", where, ErrChecksum, got, want)
		}
		e.Checksum = FormatQ1(sum)
	}
	if hdr.Typeflag != tar.TypeReg {
		if err := call(strings.NewReader("")); err != nil {
			return nil, err
		}
	}
	e.XattrChecksum = xattrChecksum(hdr.PAXRecords)
	return e, nil
}

// entryName checks an archive path the way apk-tools does, but strictly:
// relative, no empty, "." or ".." component, no control character. A
// directory's trailing slash is dropped.
func entryName(name string) (string, error) {
	n := strings.TrimSuffix(name, "/")
	if n == "" || strings.HasPrefix(n, "/") {
		return "", fmt.Errorf("%w: unsafe path %q", ErrFormat, clip(name))
	}
	for _, c := range []byte(n) {
		if c < 0x20 || c == 0x7f {
			return "", fmt.Errorf("%w: control character in path %q", ErrFormat, clip(name))
		}
	}
	for _, comp := range strings.Split(n, "/") {
		if comp == "" || comp == "." || comp == ".." {
			return "", fmt.Errorf("%w: unsafe path %q", ErrFormat, clip(name))
		}
	}
	return n, nil
}

// xattrChecksum is apk-tools' digest of extended attributes
// (apk_fileinfo_hash_xattr_array): SHA-1 over the attributes sorted by
// name, each name and value preceded by its big-endian 32-bit length.
func xattrChecksum(pax map[string]string) string {
	var names []string
	for k := range pax {
		if n, ok := strings.CutPrefix(k, "SCHILY.xattr."); ok {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return ""
	}
	sort.Strings(names)
	h := sha1.New()
	var l [4]byte
	for _, n := range names {
		v := pax["SCHILY.xattr."+n]
		binary.BigEndian.PutUint32(l[:], uint32(len(n)))
		h.Write(l[:])
		h.Write([]byte(n))
		binary.BigEndian.PutUint32(l[:], uint32(len(v)))
		h.Write(l[:])
		h.Write([]byte(v))
	}
	return FormatQ1(h.Sum(nil))
}
