package debtest

import (
	"archive/tar"
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// DebEntry is one entry of a test .deb's data (or control) archive. Zero
// fields take defaults: a regular file, mode 0644 (0755 for directories,
// 0777 for symlinks), owned by 0:0 root/root, mtime Epoch().
type DebEntry struct {
	Name     string // as in the tar, e.g. "./usr/bin/ls" or "./usr/bin/"
	Type     byte   // a tar.Type* constant; 0 is a regular file
	Mode     int64
	Body     string
	Link     string // symlink target or hard link name
	UID, GID int
	// Size overrides the header size of a regular file (for hostile tars).
	Size int64
}

// ArMember is one raw member of an ar archive.
type ArMember struct {
	Name string
	Data []byte
}

// Deb describes a .deb for MakeDeb.
type Deb struct {
	// Package, Version and Arch fill the generated control file; the
	// defaults are "test", "1.0" and "amd64".
	Package, Version, Arch string
	// Control replaces the generated control file when not empty.
	Control string
	// ControlFiles are further control members ("postinst", "conffiles").
	// md5sums is generated from Data unless given here.
	ControlFiles map[string]string
	Data         []DebEntry
	// Compression of data.tar: "", ".gz", ".xz" or ".zst". ControlCompression
	// is the same for control.tar, "none" for uncompressed, "" to follow
	// Compression.
	Compression, ControlCompression string
	// DebianBinary defaults to "2.0\n".
	DebianBinary string
	// Extra members are appended after data.tar.
	Extra []ArMember
}

// MakeDeb builds a .deb the way dpkg-deb lays it out: debian-binary,
// control.tar[.ext], data.tar[.ext].
func MakeDeb(t testing.TB, d Deb) []byte {
	t.Helper()
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&d.Package, "test")
	def(&d.Version, "1.0")
	def(&d.Arch, "amd64")
	def(&d.DebianBinary, "2.0\n")
	def(&d.ControlCompression, d.Compression)
	if d.ControlCompression == "none" {
		d.ControlCompression = ""
	}
	def(&d.Control, fmt.Sprintf("Package: %s\nVersion: %s\nArchitecture: %s\nMaintainer: Test <test@example.org>\nDescription: test package\n",
		d.Package, d.Version, d.Arch))
	files := map[string]string{"control": d.Control}
	for k, v := range d.ControlFiles {
		files[k] = v
	}
	if _, ok := files["md5sums"]; !ok {
		files["md5sums"] = MD5Sums(d.Data)
	}
	names := make([]string, 0, len(files))
	for k := range files {
		names = append(names, k)
	}
	sort.Strings(names)
	control := []DebEntry{{Name: "./", Type: tar.TypeDir}}
	for _, n := range names {
		control = append(control, DebEntry{Name: "./" + n, Body: files[n]})
	}
	members := []ArMember{
		{"debian-binary", []byte(d.DebianBinary)},
		{"control.tar" + d.ControlCompression, Compressed(t, d.ControlCompression, Tar(t, control...))},
		{"data.tar" + d.Compression, Compressed(t, d.Compression, Tar(t, d.Data...))},
	}
	return Ar(append(members, d.Extra...)...)
}

// MD5Sums renders an md5sums file for the regular files of entries.
func MD5Sums(entries []DebEntry) string {
	var b strings.Builder
	for _, e := range entries {
		if e.Type == 0 || e.Type == tar.TypeReg {
			sum := md5.Sum([]byte(e.Body))
			fmt.Fprintf(&b, "%s  %s\n", hex.EncodeToString(sum[:]), strings.TrimPrefix(e.Name, "./"))
		}
	}
	return b.String()
}

// Ar writes members as an ar archive: 60-byte headers, even padding.
func Ar(members ...ArMember) []byte {
	var b bytes.Buffer
	b.WriteString("!<arch>\n")
	for _, m := range members {
		fmt.Fprintf(&b, "%-16s%-12d%-6d%-6d%-8o%-10d`\n", m.Name, Epoch().Unix(), 0, 0, 0o100644, len(m.Data))
		b.Write(m.Data)
		if len(m.Data)%2 == 1 {
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

// Tar writes entries as a tar stream, checking nothing: hostile names,
// links and types go through as given.
func Tar(t testing.TB, entries ...DebEntry) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range entries {
		h := &tar.Header{Name: e.Name, Typeflag: e.Type, Mode: e.Mode, Linkname: e.Link,
			Uid: e.UID, Gid: e.GID, Uname: "root", Gname: "root", ModTime: Epoch(), Format: tar.FormatGNU}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Mode == 0 {
			h.Mode = map[byte]int64{tar.TypeDir: 0o755, tar.TypeSymlink: 0o777}[h.Typeflag]
			if h.Mode == 0 {
				h.Mode = 0o644
			}
		}
		body := []byte(e.Body)
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(body))
			if e.Size != 0 {
				h.Size = e.Size
				body = body[:min(len(body), int(e.Size))]
			}
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatalf("tar header %q: %v", e.Name, err)
		}
		if _, err := tw.Write(body); err != nil {
			t.Fatalf("tar content %q: %v", e.Name, err)
		}
		if int64(len(body)) < h.Size { // pad the declared size, so the tar stays well-formed
			tw.Write(make([]byte, h.Size-int64(len(body))))
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// Compressed compresses data for a member suffix: "", ".gz", ".xz", ".zst".
func Compressed(t testing.TB, ext string, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	var err error
	switch ext {
	case "":
		return data
	case ".gz":
		w := gzip.NewWriter(&b)
		w.Write(data)
		err = w.Close()
	case ".xz":
		var w *xz.Writer
		if w, err = xz.NewWriter(&b); err == nil {
			w.Write(data)
			err = w.Close()
		}
	case ".zst":
		var w *zstd.Encoder
		if w, err = zstd.NewWriter(&b); err == nil {
			w.Write(data)
			err = w.Close()
		}
	default:
		err = fmt.Errorf("unknown compression %q", ext)
	}
	if err != nil {
		t.Fatalf("compress %s: %v", ext, err)
	}
	return b.Bytes()
}

// SparseTar is a tar holding one PAX (1.0) sparse file of realSize bytes,
// all hole, as GNU tar --sparse --format=pax writes it: a few KiB that
// archive/tar expands to realSize zeros. Go's tar.Writer cannot write it.
func SparseTar(name string, realSize int64) []byte {
	var b bytes.Buffer
	var recs string
	for _, kv := range [][2]string{{"GNU.sparse.major", "1"}, {"GNU.sparse.minor", "0"},
		{"GNU.sparse.name", name}, {"GNU.sparse.realsize", fmt.Sprint(realSize)}} {
		s := " " + kv[0] + "=" + kv[1] + "\n"
		n := len(s) + 1
		for len(fmt.Sprint(n)+s) != n {
			n = len(fmt.Sprint(n) + s)
		}
		recs += fmt.Sprint(n) + s
	}
	block := func(name string, typ byte, size int) {
		h := make([]byte, 512)
		copy(h, name)
		copy(h[100:], "0000644\x00")
		copy(h[108:], "0000000\x00")
		copy(h[116:], "0000000\x00")
		copy(h[124:], fmt.Sprintf("%011o\x00", size))
		copy(h[136:], fmt.Sprintf("%011o\x00", Epoch().Unix()))
		h[156] = typ
		copy(h[257:], "ustar\x0000")
		copy(h[148:], "        ")
		sum := 0
		for _, c := range h {
			sum += int(c)
		}
		copy(h[148:], fmt.Sprintf("%06o\x00 ", sum))
		b.Write(h)
	}
	pad := func() {
		for b.Len()%512 != 0 {
			b.WriteByte(0)
		}
	}
	block("PaxHeaders/"+name, 'x', len(recs))
	b.WriteString(recs)
	pad()
	block(name, '0', 512)
	b.WriteString("1\n" + fmt.Sprint(realSize) + "\n0\n") // one empty data region at the end
	pad()
	b.Write(make([]byte, 1024))
	return b.Bytes()
}
