package fstree

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// base is a small merged-/usr tree the operation tests start from.
func base(t *testing.T) *Tree {
	return newTree(t, Options{},
		dir("usr/bin/"), dir("usr/lib/"), dir("etc/"),
		symlink("bin", "usr/bin"), symlink("lib", "/usr/lib"),
		file("usr/bin/sh", "sh"), symlink("etc/os-release", "../usr/lib/os-release"),
	)
}

func TestOps(t *testing.T) {
	tests := []struct {
		name    string
		op      func(*Tree) error
		want    error    // nil: the op must succeed
		changed []string // lines expected to appear (+) or vanish (-)
	}{
		{"mkdir", func(t *Tree) error { return t.Mkdir("/opt", Attr{Mode: 0o700}) }, nil, []string{"+opt directory 0700 0:0"}},
		{"mkdir exists", func(t *Tree) error { return t.Mkdir("bin", Attr{}) }, fs.ErrExist, nil},
		{"mkdir missing parent", func(t *Tree) error { return t.Mkdir("a/b", Attr{}) }, fs.ErrNotExist, nil},
		{"mkdir -p through link", func(t *Tree) error { return t.MkdirAll("/bin/x/y", Attr{Mode: 0o755}) }, nil,
			[]string{"+usr/bin/x directory 0755 0:0", "+usr/bin/x/y directory 0755 0:0"}},
		{"mkdir -p existing link", func(t *Tree) error { return t.MkdirAll("lib", Attr{}) }, nil, nil},
		{"mkdir -p over file", func(t *Tree) error { return t.MkdirAll("bin/sh/x", Attr{}) }, ErrNotDir, nil},
		{"symlink", func(t *Tree) error { return t.Symlink("sh", "/bin/dash", Attr{Mode: 0o777}) }, nil, []string{"+usr/bin/dash symlink 0777 0:0 -> sh"}},
		{"symlink exists", func(t *Tree) error { return t.Symlink("x", "bin/sh", Attr{}) }, fs.ErrExist, nil},
		{"link", func(t *Tree) error { return t.Link("bin/sh", "usr/bin/sh2") }, nil, []string{"+usr/bin/sh2 file 0644 0:0 = usr/bin/sh"}},
		{"link to symlink", func(t *Tree) error { return t.Link("bin", "x") }, ErrBadLink, nil},
		{"write follows final link", func(t *Tree) error { return t.WriteFile("/etc/os-release", []byte("ID=x\n"), Attr{Mode: 0o644}) }, nil,
			[]string{`+usr/lib/os-release file 0644 0:0 "ID=x\n"`}},
		{"write replaces content", func(t *Tree) error { return t.WriteFile("bin/sh", []byte("new"), Attr{Mode: 0o755, Owner: "cfg"}) }, nil,
			[]string{`-usr/bin/sh file 0644 0:0 "sh"`, `+usr/bin/sh file 0755 0:0 cfg "new"`}},
		{"write dir", func(t *Tree) error { return t.WriteFile("usr", nil, Attr{}) }, ErrIsDir, nil},
		{"chmod follows", func(t *Tree) error { return t.Chmod("/bin", 0o4711) }, nil,
			[]string{"-usr/bin directory 0755 0:0", "+usr/bin directory 4711 0:0"}},
		{"lchown does not follow", func(t *Tree) error { return t.Lchown("/bin", 5, 6) }, nil,
			[]string{"-bin symlink 0777 0:0 -> usr/bin", "+bin symlink 0777 5:6 -> usr/bin"}},
		{"remove link only", func(t *Tree) error { return t.Remove("lib") }, nil, []string{"-lib symlink 0777 0:0 -> /usr/lib"}},
		{"remove full dir", func(t *Tree) error { return t.Remove("usr/bin") }, ErrNotEmpty, nil},
		{"remove root", func(t *Tree) error { return t.Remove("/") }, ErrInvalid, nil},
		{"remove missing", func(t *Tree) error { return t.Remove("nope") }, fs.ErrNotExist, nil},
		{"remove all", func(t *Tree) error { return t.RemoveAll("/usr/bin") }, nil, []string{"-usr/bin directory 0755 0:0", `-usr/bin/sh file 0644 0:0 "sh"`}},
		{"remove all missing", func(t *Tree) error { return t.RemoveAll("/nope/x") }, nil, nil},
		{"rename", func(t *Tree) error { return t.Rename("bin/sh", "/usr/lib/sh") }, nil, []string{`-usr/bin/sh file 0644 0:0 "sh"`, `+usr/lib/sh file 0644 0:0 "sh"`}},
		{"rename dir into itself", func(t *Tree) error { return t.Rename("usr", "/bin/x") }, ErrInvalid, nil},
		{"rename dir onto full dir", func(t *Tree) error { return t.Rename("etc", "usr/bin") }, ErrNotEmpty, nil},
		{"rename file onto dir", func(t *Tree) error { return t.Rename("bin/sh", "usr/lib") }, ErrIsDir, nil},
		{"dotdot resolves against the real parent", func(t *Tree) error { return t.WriteFile("lib/../x", nil, Attr{}) }, nil, []string{`+usr/x file 0000 0:0 ""`}},
		{"dotdot stops at the root", func(t *Tree) error { return t.WriteFile("../../../y", nil, Attr{}) }, nil, []string{`+y file 0000 0:0 ""`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := base(t)
			before := listing(t, tr)
			err := tc.op(tr)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("got error %v, want %v", err, tc.want)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "fstree: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
			if diff := cmp.Diff(tc.changed, changes(before, listing(t, tr))); diff != "" {
				t.Errorf("changes (-want +got):\n%s", diff)
			}
		})
	}
}

// changes lists lines that vanished (-) and appeared (+).
func changes(before, after []string) []string {
	in := func(s string, l []string) bool {
		for _, x := range l {
			if x == s {
				return true
			}
		}
		return false
	}
	var out []string
	for _, s := range before {
		if !in(s, after) {
			out = append(out, "-"+s)
		}
	}
	for _, s := range after {
		if !in(s, before) {
			out = append(out, "+"+s)
		}
	}
	return out
}

func TestLookupStatOpen(t *testing.T) {
	tr := base(t)
	i, err := tr.Lookup("/bin/sh")
	if err != nil || i.Path != "usr/bin/sh" || i.Kind != KindFile || i.Size != 2 {
		t.Errorf("Lookup(/bin/sh) = %+v, %v", i, err)
	}
	if i, err := tr.Lookup("bin"); err != nil || i.Kind != KindSymlink || i.Target != "usr/bin" {
		t.Errorf("Lookup(bin) = %+v, %v", i, err)
	}
	if i, err := tr.Stat("bin"); err != nil || i.Kind != KindDir || i.Path != "usr/bin" {
		t.Errorf("Stat(bin) = %+v, %v", i, err)
	}
	if _, err := tr.Stat("etc/os-release"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat of a dangling link = %v", err)
	}
	if _, err := tr.Open("usr"); !errors.Is(err, ErrIsDir) {
		t.Errorf("Open(dir) = %v", err)
	}
	if i, err := tr.Lookup("/"); err != nil || i.Path != "." || i.Kind != KindDir {
		t.Errorf("Lookup(/) = %+v, %v", i, err)
	}
}

func TestSpool(t *testing.T) {
	tr := newTree(t, Options{InlineMax: 16, MemoryMax: -1})
	big := bytes.Repeat([]byte("0123456789abcdef"), 100000)
	add(t, tr, file("small", "tiny"), file("big", string(big)), file("big2", string(big[:17])))
	if got, want := tr.SpoolSize(), int64(len(big)+17); got != want {
		t.Errorf("SpoolSize = %d, want %d", got, want)
	}
	for name, want := range map[string][]byte{"small": []byte("tiny"), "big": big, "big2": big[:17]} {
		got, err := tr.ReadFile(name)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("ReadFile(%s) = %d bytes, %v; want %d bytes", name, len(got), err, len(want))
		}
	}
	mem := newTree(t, Options{InlineMax: -1}, file("big", string(big)))
	if mem.SpoolSize() != 0 {
		t.Errorf("InlineMax -1 spooled %d bytes", mem.SpoolSize())
	}
}

// TestMemoryMax: content larger than InlineMax stays in memory while the
// budget lasts, first come first served; a file that does not fit goes to
// the spool, and a later one that fits still stays in memory.
func TestMemoryMax(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 100)
	tr := newTree(t, Options{InlineMax: 16, MemoryMax: int64(len(big)) + 20},
		file("a", string(big)), file("b", string(big)), file("c", string(big[:20])), file("d", string(big[:17])))
	if got, want := tr.SpoolSize(), int64(len(big)+17); got != want {
		t.Errorf("SpoolSize = %d, want %d (b and d spooled)", got, want)
	}
	for name, want := range map[string][]byte{"a": big, "b": big, "c": big[:20], "d": big[:17]} {
		if got, err := tr.ReadFile(name); err != nil || !bytes.Equal(got, want) {
			t.Errorf("ReadFile(%s) = %d bytes, %v; want %d bytes", name, len(got), err, len(want))
		}
	}
	def := newTree(t, Options{}, file("big", string(big)))
	if def.SpoolSize() != 0 {
		t.Errorf("default options spooled %d bytes of a %d-byte file", def.SpoolSize(), len(big))
	}
}

func TestTxn(t *testing.T) {
	tr := base(t)
	before := listing(t, tr)
	x := tr.Begin()
	add(t, tr, file("bin/ls", "ls").by("p"), file("bin/sh", "dash").by("p"), dir("usr/bin/").by("p"),
		file("new/deep/file", "x").by("p"), dir("./").by("p"))
	inner := tr.Begin()
	if err := tr.Chmod("usr", 0o700); err != nil {
		t.Fatal(err)
	}
	if err := tr.RemoveAll("etc"); err != nil {
		t.Fatal(err)
	}
	inner.Commit()
	if err := tr.Rename("usr/bin", "ubin"); err != nil {
		t.Fatal(err)
	}
	if err := tr.WriteFile("ubin/sh", []byte("changed"), Attr{}); err != nil {
		t.Fatal(err)
	}
	x.Rollback()
	x.Rollback() // harmless
	if diff := cmp.Diff(before, listing(t, tr)); diff != "" {
		t.Errorf("after rollback (-before +after):\n%s", diff)
	}

	y := tr.Begin()
	add(t, tr, file("bin/ls", "ls").by("p"))
	y.Commit()
	y.Rollback() // after Commit: does nothing
	if _, err := tr.Lookup("usr/bin/ls"); err != nil {
		t.Errorf("committed file lost: %v", err)
	}
	if len(tr.journal) != 0 || tr.txDepth != 0 {
		t.Errorf("journal %d entries, depth %d after the last commit", len(tr.journal), tr.txDepth)
	}
}

// lender is a content reader that lends its bytes (ContentRef).
type lender struct {
	*bytes.Reader
	b    []byte
	lent int
}

func (l *lender) ContentRef(n int64) ([]byte, bool) {
	if n != int64(len(l.b)) {
		return nil, false
	}
	l.lent++
	return l.b, true
}

// TestContentRef: content larger than InlineMax is borrowed while
// MemoryMax lasts, and copied or spooled otherwise; small content is
// always copied, so that it does not pin the lender's buffer.
func TestContentRef(t *testing.T) {
	tr := newTree(t, Options{InlineMax: 16, MemoryMax: 100})
	put := func(name string, body []byte) *lender {
		t.Helper()
		l := &lender{Reader: bytes.NewReader(body), b: body}
		hdr := &tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(body))}
		if _, err := tr.Add(hdr, l, "p"); err != nil {
			t.Fatal(err)
		}
		return l
	}
	big := []byte(strings.Repeat("b", 80))
	small := []byte("small")
	over := []byte(strings.Repeat("o", 40)) // 80+40 > 100: spooled
	if l := put("big", big); l.lent != 1 {
		t.Errorf("big: lent %d times, want 1", l.lent)
	}
	if l := put("small", small); l.lent != 0 {
		t.Errorf("small: lent %d times, want copied", l.lent)
	}
	if l := put("over", over); l.lent != 0 {
		t.Errorf("over the budget: lent %d times, want spooled", l.lent)
	}
	if tr.SpoolSize() != int64(len(over)) {
		t.Errorf("SpoolSize = %d, want %d", tr.SpoolSize(), len(over))
	}
	small[0] = 'S' // the caller's buffer is not the tree's
	for name, want := range map[string]string{"big": strings.Repeat("b", 80), "small": "small", "over": strings.Repeat("o", 40)} {
		if got, err := tr.ReadFile(name); err != nil || string(got) != want {
			t.Errorf("ReadFile(%s) = %q, %v", name, got, err)
		}
	}
}

// TestRetain: contents that refer to a retained file read from it; a
// change to the file (here only its mode: the change time moves) is what
// CheckRetained reports; Close closes the file.
func TestRetain(t *testing.T) {
	name := filepath.Join(t.TempDir(), "data")
	body := bytes.Repeat([]byte("retained "), 1000)
	if err := os.WriteFile(name, body, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	tr := New(Options{TempDir: t.TempDir()})
	if err := tr.Retain(f, nil); err != nil {
		t.Fatal(err)
	}
	at := &atReader{Reader: bytes.NewReader(body[9:]), f: f, off: 9}
	if _, err := tr.Add(&tar.Header{Name: "x", Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(body) - 9)}, at, "p"); err != nil {
		t.Fatal(err)
	}
	if got, err := tr.ReadFile("x"); err != nil || !bytes.Equal(got, body[9:]) || tr.SpoolSize() != 0 {
		t.Errorf("ReadFile = %d bytes, %v (spool %d)", len(got), err, tr.SpoolSize())
	}
	if err := tr.CheckRetained(); err != nil {
		t.Errorf("unchanged: %v", err)
	}
	time.Sleep(10 * time.Millisecond) // a coarse clock would hide the change
	if err := os.Chmod(name, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := tr.CheckRetained(); err == nil {
		t.Error("a changed file passed CheckRetained")
	}
	tr.Close()
	if _, err := f.Stat(); err == nil {
		t.Error("Close left the retained file open")
	}
}

// atReader is content that lies in a file (ContentAt).
type atReader struct {
	*bytes.Reader
	f   *os.File
	off int64
}

func (a *atReader) ContentAt(n int64) (io.ReaderAt, int64, bool) { return a.f, a.off, true }
