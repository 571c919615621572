package deb

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/rootfsd/rootfsd/repo"
	"github.com/rootfsd/rootfsd/repo/fstree"
)

// Errors of Unpack that callers may branch on. Unsafe paths, hard links out
// of the tree and writes through a package's own symlinks are the fstree
// errors (fstree.ErrUnsafePath, fstree.ErrBadLink, fstree.ErrOwnSymlink).
var (
	// ErrBadDeb is a .deb whose members are not what dpkg-deb accepts.
	ErrBadDeb = errors.New("malformed .deb")
	// ErrUnpackLimit is content past a size, ratio or count limit.
	ErrUnpackLimit = errors.New("unpack limit exceeded")
	// ErrRefusedEntry is an entry the options do not allow: a device node,
	// a duplicate path, a file another package owns.
	ErrRefusedEntry = errors.New("refused entry")
)

// UnpackLimits bound what one package may expand to. Zero fields take the
// defaults.
type UnpackLimits struct {
	MaxControl int64 // decompressed control.tar; default 64 MiB
	MaxData    int64 // decompressed data.tar; default 16 GiB
	// MaxRatio is the largest decompressed:compressed ratio accepted once
	// a member has produced RatioFloor bytes; defaults 100 and 4 MiB. Real
	// packages stay under 20.
	MaxRatio   int64
	RatioFloor int64
	MaxEntries int // data.tar entries; default 1<<20
}

func (l UnpackLimits) withDefaults() UnpackLimits {
	def := func(v *int64, d int64) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.MaxControl, 64<<20)
	def(&l.MaxData, 16<<30)
	def(&l.MaxRatio, 100)
	def(&l.RatioFloor, 4<<20)
	if l.MaxEntries <= 0 {
		l.MaxEntries = 1 << 20
	}
	return l
}

// UnpackOptions control Unpack. The zero value is the strict default.
type UnpackOptions struct {
	Limits UnpackLimits
	// AllowDevices accepts character and block devices and FIFOs, which
	// are refused by default: no Debian package ships them.
	AllowDevices bool
	// Replace decides whether the package may replace a non-directory that
	// owner put in the tree (dpkg's Replaces); path is the real path in the
	// tree, without a leading "/". Nil refuses every such case.
	Replace func(path, owner string) error
	// XZCommand, when set, is an xz program run to decode xz members,
	// about 1.7 times faster than the Go decoder.
	XZCommand string
	// Report receives one EventUnpack when the package is in the tree.
	Report repo.Reporter
}

// Unpacked is what Unpack found and installed.
type Unpacked struct {
	Package string
	// Control holds the control archive's files by name: "control",
	// "md5sums", "conffiles", "postinst", "triggers", "shlibs", ...
	Control map[string][]byte
	// Paths is the content of dpkg's info/<package>.list: "/." first, then
	// every path of data.tar in archive order, "/usr/bin/ls", directories
	// and paths kept as symlinks included.
	Paths []string
	// MD5Sums maps paths as in Paths to the digests of md5sums.
	MD5Sums map[string]string
	// Replaced lists the files of other packages this one replaced.
	Replaced []fstree.Replaced
	// Size is the number of content bytes of the regular files.
	Size int64
}

// Unpack reads a .deb from r as a stream, checks debian-binary ("2.0\n"),
// keeps the control files and puts data.tar into t with pkgName as owner.
// The tree changes only when the whole package was read without error: on
// any error every change is undone. Errors name the package and entry.
func Unpack(ctx context.Context, r io.Reader, pkgName string, t *fstree.Tree, opt UnpackOptions) (*Unpacked, error) {
	u := &unpacker{ctx: ctx, name: pkgName, t: t, opt: opt, lim: opt.Limits.withDefaults()}
	out, err := u.run(r)
	// out points into u, which callers keep: not the .deb's buffer.
	u.mem = nil
	if err != nil {
		return nil, fmt.Errorf("deb: unpack %s: %w", pkgName, err)
	}
	opt.Report.Report(repo.Event{Kind: repo.EventUnpack, Name: pkgName, Current: out.Size})
	return out, nil
}

type unpacker struct {
	ctx  context.Context
	name string
	t    *fstree.Tree
	opt  UnpackOptions
	lim  UnpackLimits
	out  Unpacked
	// mem is the whole .deb when it is in memory (a memDeb), so that an
	// uncompressed data.tar's file contents can be lent to the tree.
	mem *memDeb
}

func (u *unpacker) run(r io.Reader) (*Unpacked, error) {
	if err := u.ctx.Err(); err != nil {
		return nil, err
	}
	u.mem, _ = r.(*memDeb)
	ar, err := NewArReader(ctxReader{u.ctx, r}, 0)
	if err != nil {
		return nil, err
	}
	h, err := ar.Next()
	if err != nil {
		return nil, fmt.Errorf("%w: no debian-binary: %w", ErrBadDeb, err)
	}
	if h.Name != "debian-binary" {
		return nil, fmt.Errorf("%w: first member is %q, not debian-binary", ErrBadDeb, h.Name)
	}
	var version [5]byte
	if n, _ := io.ReadFull(ar, version[:]); h.Size != 4 || string(version[:n]) != "2.0\n" {
		return nil, fmt.Errorf("%w: debian-binary is %q, want \"2.0\\n\"", ErrBadDeb, version[:n])
	}
	tx := u.t.Begin()
	defer tx.Rollback()
	want := "control.tar"
	for {
		h, err := ar.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if strings.HasPrefix(h.Name, "_") {
			continue // reserved for extensions; dpkg-deb ignores them
		}
		base, ext := splitMember(h.Name)
		if base != want && strings.HasPrefix(h.Name, want+".") {
			return nil, fmt.Errorf("%w: member %q: unsupported compression", ErrBadDeb, h.Name)
		}
		if base != want {
			return nil, fmt.Errorf("%w: member %q where %s was expected", ErrBadDeb, h.Name, want)
		}
		switch want {
		case "control.tar":
			err, want = u.control(h.Name, ext, ar), "data.tar"
		case "data.tar":
			err, want = u.dataMember(h, ext, ar), "nothing more"
		}
		if err != nil {
			return nil, err
		}
	}
	if want != "nothing more" {
		return nil, fmt.Errorf("%w: no %s member", ErrBadDeb, want)
	}
	tx.Commit()
	u.out.Package = u.name
	return &u.out, nil
}

// open decompresses a member with its limit.
func (u *unpacker) open(member, ext string, r io.Reader, max int64) (io.ReadCloser, error) {
	lim := sizeLimit{max: max, ratio: u.lim.MaxRatio, floor: u.lim.RatioFloor}
	return decompress(u.ctx, member, ext, r, lim, u.opt.XZCommand)
}

func (u *unpacker) control(member, ext string, r io.Reader) error {
	dec, err := u.open(member, ext, r, u.lim.MaxControl)
	if err != nil {
		return err
	}
	defer dec.Close()
	u.out.Control = make(map[string][]byte)
	tr := tar.NewReader(dec)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %w", member, err)
		}
		name := strings.TrimPrefix(h.Name, "./")
		switch {
		case h.Typeflag == tar.TypeDir && (name == "" || name == "."):
			continue
		case h.Typeflag != tar.TypeReg || name == "" || strings.Contains(name, "/") || name == "." || name == "..":
			return fmt.Errorf("%s: %w: entry %q of type %q: only plain files are allowed", member, ErrBadDeb, h.Name, h.Typeflag)
		}
		if _, dup := u.out.Control[name]; dup {
			return fmt.Errorf("%s: %w: duplicate entry %q", member, ErrBadDeb, h.Name)
		}
		b, err := io.ReadAll(tr) // the decompressed size is capped
		if err != nil {
			return fmt.Errorf("%s: %s: %w", member, h.Name, err)
		}
		u.out.Control[name] = b
	}
	if err := drain(member, dec); err != nil {
		return err
	}
	return u.checkControl()
}

// checkControl checks that the control file describes this package and
// reads md5sums.
func (u *unpacker) checkControl() error {
	c, ok := u.out.Control["control"]
	if !ok {
		return fmt.Errorf("%w: control.tar has no control file", ErrBadDeb)
	}
	var name string
	err := ParseControl(c, func(p *Paragraph) error {
		if name == "" {
			name = p.GetString("Package")
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("control file: %w", err)
	}
	if want, _, _ := strings.Cut(u.name, ":"); name != want {
		return fmt.Errorf("%w: control file is for package %q", ErrBadDeb, name)
	}
	sums, err := parseMD5Sums(u.out.Control["md5sums"])
	if err != nil {
		return err
	}
	u.out.MD5Sums = sums
	return nil
}

// parseMD5Sums reads "<32 hex>  path" lines, as md5sum writes them.
func parseMD5Sums(b []byte) (map[string]string, error) {
	sums := make(map[string]string)
	for i, line := range bytes.Split(b, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		sum, p, ok := bytes.Cut(line, []byte(" "))
		p = bytes.TrimLeft(p, " *")
		if !ok || len(sum) != 32 || len(bytes.Trim(sum, "0123456789abcdef")) > 0 || len(p) == 0 {
			return nil, fmt.Errorf("%w: md5sums line %d is malformed: %.80q", ErrBadDeb, i+1, line)
		}
		sums["/"+strings.TrimPrefix(string(p), "./")] = string(sum)
	}
	return sums, nil
}

// dataMember unpacks the data.tar member h, read from r; an uncompressed
// one of a .deb in memory is read in place.
func (u *unpacker) dataMember(h *ArHeader, ext string, r io.Reader) error {
	if r, size, ok := u.mem.member(h, ext); ok { // unpack_mem.go
		if size > u.lim.MaxData {
			return fmt.Errorf("%s: %w: more than %d bytes", h.Name, ErrUnpackLimit, u.lim.MaxData)
		}
		return u.data(h.Name, "", r)
	}
	return u.data(h.Name, ext, r)
}

func (u *unpacker) data(member, ext string, r io.Reader) error {
	// An in-place reader goes to archive/tar as it is, so that it skips
	// file data by seeking.
	var dec io.Reader
	ip, _ := r.(inPlace)
	if ip != nil {
		dec = ip
	} else {
		rc, err := u.open(member, ext, r, u.lim.MaxData)
		if err != nil {
			return err
		}
		defer rc.Close()
		dec = rc
	}
	u.out.Paths = []string{"/."}
	seen := make(map[string]bool)
	tr := tar.NewReader(dec)
	for n := 0; ; n++ {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %w", member, err)
		}
		if n >= u.lim.MaxEntries {
			return fmt.Errorf("%s: %w: more than %d entries", member, ErrUnpackLimit, u.lim.MaxEntries)
		}
		if h.Typeflag == tar.TypeXGlobalHeader {
			continue
		}
		var content io.Reader = tr
		if ip != nil {
			content = ip.Content(tr, h)
		}
		if err := u.entry(h, content, seen); err != nil {
			return fmt.Errorf("%s: %w", member, err)
		}
	}
	return drain(member, dec)
}

// entry puts one data.tar entry into the tree.
func (u *unpacker) entry(h *tar.Header, r io.Reader, seen map[string]bool) error {
	if err := u.ctx.Err(); err != nil {
		return err
	}
	p := listPath(h.Name)
	if seen[p] {
		return fmt.Errorf("%w: duplicate entry %q", ErrRefusedEntry, h.Name)
	}
	seen[p] = true
	switch h.Typeflag {
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		if !u.opt.AllowDevices {
			return fmt.Errorf("%w: %q is a device node or fifo", ErrRefusedEntry, h.Name)
		}
	}
	rep, err := u.t.Add(h, r, u.name)
	if err != nil {
		return err
	}
	if h.Typeflag == tar.TypeLink {
		// dpkg links only to files of the same archive.
		if i, err := u.t.Lookup(h.Name); err != nil || i.Owner != u.name {
			return fmt.Errorf("%w: hard link %q to %q of package %q", ErrRefusedEntry, h.Name, h.Linkname, i.Owner)
		}
	}
	if rep != nil {
		if u.opt.Replace == nil {
			err = fmt.Errorf("%w: trying to overwrite /%s, which is also in package %s", ErrRefusedEntry, rep.Path, rep.Owner)
		} else if err = u.opt.Replace(rep.Path, rep.Owner); err != nil {
			err = fmt.Errorf("%w: overwriting /%s of package %s: %w", ErrRefusedEntry, rep.Path, rep.Owner, err)
		}
		if err != nil {
			return err
		}
		u.out.Replaced = append(u.out.Replaced, *rep)
	}
	if p != "/." {
		u.out.Paths = append(u.out.Paths, p)
	}
	if h.Typeflag == tar.TypeReg {
		if u.out.Size += h.Size; u.out.Size > u.lim.MaxData {
			return fmt.Errorf("%w: files larger than %d bytes in all", ErrUnpackLimit, u.lim.MaxData)
		}
	}
	return nil
}

// listPath is a tar name as dpkg lists it: "./usr/bin/" is "/usr/bin",
// "./" is "/.". Unsafe names are refused by the tree afterwards.
func listPath(name string) string {
	var parts []string
	for c := range strings.SplitSeq(name, "/") {
		if c != "" && c != "." {
			parts = append(parts, c)
		}
	}
	if len(parts) == 0 {
		return "/."
	}
	return "/" + strings.Join(parts, "/")
}
