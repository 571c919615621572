package deb

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"strings"
	"testing"

	"github.com/rootfsd/rootfsd/deb/internal/debtest"
	"github.com/rootfsd/rootfsd/repo/fstree"
)

// otherPkg is in the tree before every hostile package is unpacked.
var otherPkg = debtest.Deb{Package: "other", Data: []debEntry{
	tDir("./"), tDir("./etc/"), tFile("./etc/shadow", "root:*:"), tDir("./usr/"), tDir("./usr/bin/"), tLink("./bin", "usr/bin"),
}}

func TestUnpackHostile(t *testing.T) {
	zeros := debEntry{Name: "./zeros", Size: 24 << 20} // 24 MiB of zeros: a few KiB compressed
	ok := []debEntry{tDir("./"), tFile("./ok", "fine")}
	raw := func(members ...debtest.ArMember) []byte { return debtest.Ar(members...) }
	tests := []struct {
		name  string
		deb   debtest.Deb
		raw   []byte // used instead of deb when set
		opt   UnpackOptions
		want  error
		entry string // the message must name it
	}{
		{name: "dotdot", deb: debtest.Deb{Data: append(ok, tFile("./../../etc/passwd", "x"))}, want: fstree.ErrUnsafePath, entry: "../../etc/passwd"},
		{name: "inner dotdot", deb: debtest.Deb{Data: append(ok, tFile("./usr/../../x", "x"))}, want: fstree.ErrUnsafePath, entry: "./usr/../../x"},
		{name: "absolute", deb: debtest.Deb{Data: append(ok, tFile("/etc/passwd", "x"))}, want: fstree.ErrUnsafePath, entry: "/etc/passwd"},
		{name: "symlink then write", deb: debtest.Deb{Data: append(ok, tLink("./evil", "/etc"), tFile("./evil/shadow", "x"))}, want: fstree.ErrOwnSymlink, entry: "./evil/shadow"},
		{name: "symlink then write via dotdot", deb: debtest.Deb{Data: append(ok, tLink("./up", "../../../.."), tFile("./up/etc/shadow", "x"))}, want: fstree.ErrOwnSymlink, entry: "./up/etc/shadow"},
		{name: "hard link out of the tree", deb: debtest.Deb{Data: append(ok, tHard("./h", "../../etc/shadow"))}, want: fstree.ErrUnsafePath, entry: "./h"},
		{name: "hard link to a missing file", deb: debtest.Deb{Data: append(ok, tHard("./h", "./nope"))}, want: fstree.ErrBadLink, entry: "./h"},
		{name: "hard link to a directory", deb: debtest.Deb{Data: append(ok, tHard("./h", "./"))}, want: fstree.ErrBadLink, entry: "./h"},
		{name: "hard link to another package", deb: debtest.Deb{Data: append(ok, tHard("./h", "./etc/shadow"))}, want: ErrRefusedEntry, entry: "./h"},
		{name: "char device", deb: debtest.Deb{Data: append(ok, debEntry{Name: "./dev/mem", Type: tar.TypeChar})}, want: ErrRefusedEntry, entry: "./dev/mem"},
		{name: "block device", deb: debtest.Deb{Data: append(ok, debEntry{Name: "./sda", Type: tar.TypeBlock})}, want: ErrRefusedEntry, entry: "./sda"},
		{name: "fifo", deb: debtest.Deb{Data: append(ok, debEntry{Name: "./fifo", Type: tar.TypeFifo})}, want: ErrRefusedEntry, entry: "./fifo"},
		{name: "duplicate", deb: debtest.Deb{Data: append(ok, tFile("./a", "1"), tFile("a", "2"))}, want: ErrRefusedEntry, entry: "a"},
		{name: "overwrite other package", deb: debtest.Deb{Data: append(ok, tFile("./etc/shadow", "x"))}, want: ErrRefusedEntry, entry: "/etc/shadow"},
		{name: "overwrite through merged usr", deb: debtest.Deb{Data: append(ok, tFile("./bin", "x"))}, want: ErrRefusedEntry, entry: "/bin"},
		{name: "replace full directory", deb: debtest.Deb{Data: append(ok, tFile("./usr", "x"))}, want: fstree.ErrNotEmpty, entry: "./usr"},
		{name: "size cap", deb: debtest.Deb{Compression: ".zst", Data: append(ok, zeros)}, opt: UnpackOptions{Limits: UnpackLimits{MaxData: 8 << 20, MaxRatio: 1 << 40}}, want: ErrUnpackLimit, entry: "more than 8388608 bytes"},
		{name: "ratio bomb zst", deb: debtest.Deb{Compression: ".zst", Data: append(ok, zeros)}, want: ErrUnpackLimit, entry: "data.tar.zst"},
		{name: "ratio bomb gz", deb: debtest.Deb{Compression: ".gz", Data: append(ok, zeros)}, want: ErrUnpackLimit, entry: "data.tar.gz"},
		{name: "ratio bomb xz", deb: debtest.Deb{Compression: ".xz", Data: append(ok, zeros)}, want: ErrUnpackLimit, entry: "data.tar.xz"},
		{name: "control size cap", deb: debtest.Deb{Compression: ".gz", ControlFiles: map[string]string{"big": strings.Repeat("x", 2<<20)}, Data: ok},
			opt: UnpackOptions{Limits: UnpackLimits{MaxControl: 1 << 20}}, want: ErrUnpackLimit, entry: "control.tar.gz"},
		{name: "too many entries", deb: debtest.Deb{Data: append(ok, tFile("a", ""), tFile("b", ""))}, opt: UnpackOptions{Limits: UnpackLimits{MaxEntries: 3}}, want: ErrUnpackLimit},
		{name: "debian-binary 3.0", deb: debtest.Deb{DebianBinary: "3.0\n", Data: ok}, want: ErrBadDeb, entry: "3.0"},
		{name: "debian-binary with more", deb: debtest.Deb{DebianBinary: "2.0\nx\n", Data: ok}, want: ErrBadDeb},
		{name: "no debian-binary", raw: raw(debtest.ArMember{Name: "control.tar", Data: nil}), want: ErrBadDeb},
		{name: "data before control", raw: raw(debtest.ArMember{Name: "debian-binary", Data: []byte("2.0\n")}, debtest.ArMember{Name: "data.tar", Data: nil}), want: ErrBadDeb, entry: "data.tar"},
		{name: "no data", raw: raw(debtest.ArMember{Name: "debian-binary", Data: []byte("2.0\n")}), want: ErrBadDeb, entry: "control.tar"},
		{name: "member after data", deb: debtest.Deb{Data: ok, Extra: []debtest.ArMember{{Name: "evil", Data: []byte("x")}}}, want: ErrBadDeb, entry: "evil"},
		{name: "unknown compression", raw: raw(debtest.ArMember{Name: "debian-binary", Data: []byte("2.0\n")}, debtest.ArMember{Name: "control.tar.bz2", Data: nil}), want: ErrBadDeb, entry: "unsupported compression"},
		{name: "control for another package", deb: debtest.Deb{Control: "Package: sudo\nVersion: 1\n", Data: ok}, want: ErrBadDeb, entry: "sudo"},
		{name: "no control file", raw: withoutControlFile(t, ok), want: ErrBadDeb, entry: "no control file"},
		{name: "control symlink", raw: withControl(t, ok, tFile("./control", "Package: evil\n"), tLink("./postinst", "/etc/shadow")), want: ErrBadDeb, entry: "./postinst"},
		{name: "control subdirectory", raw: withControl(t, ok, tFile("./control", "Package: evil\n"), tFile("./x/y", "")), want: ErrBadDeb, entry: "./x/y"},
		{name: "control duplicate", raw: withControl(t, ok, tFile("./control", "Package: evil\n"), tFile("control", "Package: evil\n")), want: ErrBadDeb, entry: "duplicate"},
		{name: "control dotdot", raw: withControl(t, ok, tFile("./control", "Package: evil\n"), tFile("./../postinst", "")), want: ErrBadDeb, entry: "./../postinst"},
		{name: "bad md5sums", deb: debtest.Deb{ControlFiles: map[string]string{"md5sums": "xyz  usr/bin/x\n"}, Data: ok}, want: ErrBadDeb, entry: "md5sums line 1"},
		{name: "sparse file", raw: debtest.Ar(debtest.ArMember{Name: "debian-binary", Data: []byte("2.0\n")},
			debtest.ArMember{Name: "control.tar", Data: debtest.Tar(t, tFile("./control", "Package: evil\n"))},
			debtest.ArMember{Name: "data.tar.gz", Data: debtest.Compressed(t, ".gz", debtest.SparseTar("./big", 1<<30))}),
			want: fstree.ErrUnsupported, entry: "./big: sparse file"},
		{name: "xz dictionary too big", raw: hugeDictXZ(t), want: ErrUnpackLimit, entry: "dictionary"},
		{name: "cancelled", deb: debtest.Deb{Data: ok}, opt: UnpackOptions{}, want: context.Canceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := unpackTree(t)
			if _, err := unpackDeb(t, tr, otherPkg, UnpackOptions{}); err != nil {
				t.Fatal(err)
			}
			before := treeSnapshot(t, tr)
			tc.deb.Package = "evil"
			data := tc.raw
			if data == nil {
				data = debtest.MakeDeb(t, tc.deb)
			}
			ctx := context.Background()
			if tc.want == context.Canceled {
				c, cancel := context.WithCancel(ctx)
				cancel()
				ctx = c
			}
			_, err := Unpack(ctx, bytes.NewReader(data), "evil", tr, tc.opt)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Unpack = %v, want %v", err, tc.want)
			}
			t.Log(err)
			if !strings.HasPrefix(err.Error(), "deb: unpack evil: ") || !strings.Contains(err.Error(), tc.entry) {
				t.Errorf("error %q does not name the package and %q", err, tc.entry)
			}
			if !bytes.Equal(before, treeSnapshot(t, tr)) {
				t.Errorf("the refused package changed the tree")
			}
		})
	}
}

// withControl is a .deb with a hand-made control.tar.
func withControl(t *testing.T, data []debEntry, control ...debEntry) []byte {
	return debtest.Ar(debtest.ArMember{Name: "debian-binary", Data: []byte("2.0\n")},
		debtest.ArMember{Name: "control.tar", Data: debtest.Tar(t, control...)}, debtest.ArMember{Name: "data.tar", Data: debtest.Tar(t, data...)})
}

// withoutControlFile is a .deb whose control.tar lacks the control file,
// which MakeDeb always writes.
func withoutControlFile(t *testing.T, data []debEntry) []byte {
	ctl := debtest.Tar(t, debEntry{Name: "./", Type: tar.TypeDir}, debEntry{Name: "./md5sums", Body: ""})
	return debtest.Ar(debtest.ArMember{Name: "debian-binary", Data: []byte("2.0\n")},
		debtest.ArMember{Name: "control.tar", Data: ctl}, debtest.ArMember{Name: "data.tar", Data: debtest.Tar(t, data...)})
}

// hugeDictXZ is a .deb whose data.tar.xz claims a 1 GiB dictionary in its
// first block header. The header CRC no longer matches, but the check must
// refuse it before any decoder sees it.
func hugeDictXZ(t *testing.T) []byte {
	x := debtest.Compressed(t, ".xz", debtest.Tar(t, tDir("./")))
	blk := x[12:]
	size := (int(blk[0]) + 1) * 4
	i := bytes.Index(blk[:size], []byte{0x21, 0x01}) // LZMA2 filter, 1 byte of properties
	if i < 0 {
		t.Fatal("no LZMA2 filter in the first block header")
	}
	blk[i+2] = 36 // 2 << (36/2 + 11) = 1 GiB
	return debtest.Ar(debtest.ArMember{Name: "debian-binary", Data: []byte("2.0\n")},
		debtest.ArMember{Name: "control.tar", Data: debtest.Tar(t, debEntry{Name: "./control", Body: "Package: evil\n"})},
		debtest.ArMember{Name: "data.tar.xz", Data: x})
}

// TestUnpackDamaged cuts and corrupts a good .deb at many places: every
// cut must fail, and every failure must leave the tree empty.
func TestUnpackDamaged(t *testing.T) {
	empty := treeSnapshot(t, fstree.New(fstree.Options{}))
	for _, comp := range []string{"", ".gz", ".xz", ".zst"} {
		good := debtest.MakeDeb(t, debtest.Deb{Package: "hello", Data: helloData, Compression: comp})
		for cut := 0; cut < len(good); cut += 1 + len(good)/97 {
			for _, bad := range [][]byte{good[:cut], flip(good, cut)} {
				tr := fstree.New(fstree.Options{})
				_, err := Unpack(context.Background(), bytes.NewReader(bad), "hello", tr, UnpackOptions{})
				switch {
				case err == nil && len(bad) < len(good)-1:
					t.Errorf("%s: a .deb cut at %d of %d unpacked", comp, cut, len(good))
				case err != nil && !bytes.Equal(empty, treeSnapshot(t, tr)):
					t.Errorf("%s: a damaged .deb (byte %d) changed the tree: %v", comp, cut, err)
				}
				// Without error: a flipped mtime, mode bit or content byte
				// is not damage anything can see (md5sums are not checked).
				tr.Close()
			}
		}
	}
}

func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0x55
	return c
}

func TestUnpackAllowDevices(t *testing.T) {
	tr := unpackTree(t)
	d := debtest.Deb{Package: "makedev", Data: []debEntry{tDir("./"), tDir("./dev/"),
		{Name: "./dev/null", Type: tar.TypeChar, Mode: 0o666}, {Name: "./dev/initctl", Type: tar.TypeFifo, Mode: 0o600}}}
	if _, err := unpackDeb(t, tr, d, UnpackOptions{AllowDevices: true}); err != nil {
		t.Fatal(err)
	}
	if i, err := tr.Lookup("dev/null"); err != nil || i.Kind != fstree.KindChar {
		t.Errorf("dev/null: %+v, %v", i, err)
	}
}

// errReader fails after n bytes, like a dropped connection.
type errReader struct {
	r io.Reader
	n int
}

func (e *errReader) Read(p []byte) (int, error) {
	if e.n <= 0 {
		return 0, fs.ErrClosed
	}
	if len(p) > e.n {
		p = p[:e.n]
	}
	n, err := e.r.Read(p)
	e.n -= n
	return n, err
}

func TestUnpackReadError(t *testing.T) {
	good := debtest.MakeDeb(t, debtest.Deb{Package: "hello", Data: helloData, Compression: ".zst"})
	tr := unpackTree(t)
	_, err := Unpack(context.Background(), &errReader{r: bytes.NewReader(good), n: len(good) - 10}, "hello", tr, UnpackOptions{})
	if !errors.Is(err, fs.ErrClosed) {
		t.Fatalf("Unpack over a failing reader = %v", err)
	}
}
