package fstree

import (
	"archive/tar"
	"errors"
	"io/fs"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestAdd(t *testing.T) {
	tests := []struct {
		name string
		es   []entry
		want []string
	}{{
		name: "plain",
		es:   []entry{dir("./"), dir("./usr/"), dir("./usr/bin/"), file("./usr/bin/ls", "elf").by("coreutils")},
		want: []string{
			". directory 0755 0:0",
			"usr directory 0755 0:0",
			"usr/bin directory 0755 0:0",
			`usr/bin/ls file 0644 0:0 coreutils "elf"`,
		},
	}, {
		name: "merged usr: files land below the link, dir entries keep it",
		es: []entry{
			dir("usr/bin/").by("base-files"), symlink("bin", "usr/bin").by("base-files"),
			dir("./bin/").by("coreutils"), file("./bin/ls", "elf").by("coreutils"),
		},
		want: []string{
			". directory 0755 0:0",
			"bin symlink 0777 0:0 base-files -> usr/bin",
			"usr directory 0755 0:0 base-files",
			"usr/bin directory 0755 0:0 base-files",
			`usr/bin/ls file 0644 0:0 coreutils "elf"`,
		},
	}, {
		name: "absolute link is resolved inside the tree",
		es: []entry{
			symlink("lib64", "/usr/lib64").by("base-files"), dir("usr/lib64/").by("libc6"),
			file("lib64/ld.so", "ld").by("libc6"),
		},
		want: []string{
			". directory 0755 0:0",
			"lib64 symlink 0777 0:0 base-files -> /usr/lib64",
			"usr directory 0755 0:0 libc6",
			"usr/lib64 directory 0755 0:0 libc6",
			`usr/lib64/ld.so file 0644 0:0 libc6 "ld"`,
		},
	}, {
		name: "link pointing outside is clamped to the root",
		es: []entry{
			symlink("etc", "../../../../host/etc").by("evil-base"),
			file("etc/passwd", "root").by("other"),
		},
		want: []string{
			". directory 0755 0:0",
			"etc symlink 0777 0:0 evil-base -> ../../../../host/etc",
			"host directory 0755 0:0 other",
			"host/etc directory 0755 0:0 other",
			`host/etc/passwd file 0644 0:0 other "root"`,
		},
	}, {
		name: "dangling dir link: the directory is made where it points",
		es:   []entry{symlink("sbin", "usr/sbin").by("base-files"), dir("sbin/").by("x"), file("sbin/x", "x").by("x")},
		want: []string{
			". directory 0755 0:0",
			"sbin symlink 0777 0:0 base-files -> usr/sbin",
			"usr directory 0755 0:0 x",
			"usr/sbin directory 0755 0:0 x",
			`usr/sbin/x file 0644 0:0 x "x"`,
		},
	}, {
		name: "final symlink is replaced, not followed",
		es:   []entry{file("etc/shadow", "secret").by("a"), symlink("x", "etc/shadow").by("a"), file("x", "new").by("b")},
		want: []string{
			". directory 0755 0:0",
			"etc directory 0755 0:0 a",
			`etc/shadow file 0644 0:0 a "secret"`,
			`x file 0644 0:0 b "new"`,
		},
	}, {
		name: "implicit parent takes its later entry's metadata once",
		es:   []entry{file("a/f", "").by("p"), {name: "a/", typ: tar.TypeDir, mode: 0o700, owner: "p"}, {name: "a/", typ: tar.TypeDir, mode: 0o777, owner: "q"}},
		want: []string{". directory 0755 0:0", "a directory 0700 0:0 p", `a/f file 0644 0:0 p ""`},
	}, {
		name: "hard link and special modes",
		es: []entry{
			{name: "bin/su", body: "su", typ: tar.TypeReg, mode: 0o4755}, hardlink("bin/su2", "bin/su"),
			{name: "tmp/", typ: tar.TypeDir, mode: 0o1777},
			{name: "dev/null", typ: tar.TypeChar, mode: 0o666}, {name: "run/fifo", typ: tar.TypeFifo, mode: 0o600},
		},
		want: []string{
			". directory 0755 0:0",
			"bin directory 0755 0:0",
			`bin/su file 4755 0:0 "su"`,
			"bin/su2 file 4755 0:0 = bin/su",
			"dev directory 0755 0:0",
			"dev/null char device 0666 0:0 0,0",
			"run directory 0755 0:0",
			"run/fifo fifo 0600 0:0",
			"tmp directory 1777 0:0",
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTree(t, Options{}, tc.es...)
			if diff := cmp.Diff(tc.want, listing(t, tr)); diff != "" {
				t.Errorf("tree (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAddRefuses(t *testing.T) {
	long := strings.Repeat("a/", 2100)
	tests := []struct {
		name  string
		setup []entry
		bad   entry
		want  error
	}{
		{"dotdot", nil, file("../x", ""), ErrUnsafePath},
		{"inner dotdot", nil, file("a/../../x", ""), ErrUnsafePath},
		{"absolute", nil, file("/etc/passwd", ""), ErrUnsafePath},
		{"NUL", nil, file("a\x00b", ""), ErrUnsafePath},
		{"too long", nil, file(long, ""), ErrUnsafePath},
		{"long component", nil, file(strings.Repeat("x", 256), ""), ErrUnsafePath},
		{"write through own symlink", []entry{symlink("a", "/etc").by("p")}, file("a/passwd", "").by("p"), ErrOwnSymlink},
		{"own symlink via another link", []entry{dir("usr/bin/"), symlink("bin", "usr/bin").by("base"), symlink("usr/bin/e", "/etc").by("p")}, file("bin/e/passwd", "").by("p"), ErrOwnSymlink},
		{"hard link to missing", nil, hardlink("a", "b"), ErrBadLink},
		{"hard link to dir", []entry{dir("d/")}, hardlink("a", "d"), ErrBadLink},
		{"hard link to symlink", []entry{file("f", ""), symlink("s", "f")}, hardlink("a", "s"), ErrBadLink},
		{"hard link out of the tree", nil, hardlink("a", "../etc/passwd"), ErrUnsafePath},
		{"hard link absolute", nil, hardlink("a", "/etc/passwd"), ErrUnsafePath},
		{"replace full dir", []entry{file("d/f", "")}, file("d", ""), ErrNotEmpty},
		{"file as parent", []entry{file("f", "")}, file("f/x", ""), ErrNotDir},
		{"symlink loop", []entry{symlink("a", "b"), symlink("b", "a")}, file("a/x", ""), ErrLoop},
		{"root as file", nil, file("./", ""), ErrNotDir},
		{"empty symlink", nil, symlink("s", ""), fs.ErrInvalid},
		{"short content", nil, entry{name: "x", typ: tar.TypeReg, body: "abc"}, nil},
		{"GNU sparse", nil, entry{name: "x", typ: tar.TypeGNUSparse}, ErrUnsupported},
		{"PAX sparse", nil, entry{name: "x", typ: tar.TypeReg, link: "sparse"}, ErrUnsupported},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTree(t, Options{}, tc.setup...)
			before := listing(t, tr)
			hdr := tc.bad.header()
			if tc.bad.link == "sparse" { // what archive/tar reports for a PAX sparse file
				hdr.Linkname, hdr.Size = "", 1<<30
				hdr.PAXRecords = map[string]string{"GNU.sparse.major": "1", "GNU.sparse.minor": "0", "GNU.sparse.realsize": "1073741824"}
			}
			want := tc.want
			if tc.name == "short content" {
				hdr.Size = 10
				want = errShort
			}
			_, err := tr.Add(hdr, strings.NewReader(tc.bad.body), tc.bad.owner)
			if err == nil || (want != errShort && !errors.Is(err, want)) {
				t.Fatalf("Add(%.40q) = %v, want %v", tc.bad.name, err, want)
			}
			if !strings.HasPrefix(err.Error(), "fstree: add ") {
				t.Errorf("error %q does not name the operation", err)
			}
			if diff := cmp.Diff(before, listing(t, tr)); diff != "" {
				t.Errorf("tree changed by a refused entry (-before +after):\n%s", diff)
			}
		})
	}
}

var errShort = errors.New("short")

func TestAddReportsReplaced(t *testing.T) {
	tr := newTree(t, Options{}, file("usr/bin/x", "a").by("a"), dir("usr/share/").by("a"))
	steps := []struct {
		e    entry
		want *Replaced
	}{
		{file("usr/bin/x", "a2").by("a"), nil},
		{file("usr/bin/x", "b").by("b"), &Replaced{Path: "usr/bin/x", Owner: "a", Kind: KindFile}},
		{dir("usr/share/").by("b"), nil},
		{symlink("usr/bin/x", "y").by("c"), &Replaced{Path: "usr/bin/x", Owner: "b", Kind: KindFile}},
		{file("usr/bin/new", "").by("c"), nil},
	}
	for _, s := range steps {
		got, err := tr.Add(s.e.header(), strings.NewReader(s.e.body), s.e.owner)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(s.want, got); diff != "" {
			t.Errorf("Add(%s by %s) replaced (-want +got):\n%s", s.e.name, s.e.owner, diff)
		}
	}
}

func TestReplaceEmptyDirByFile(t *testing.T) {
	tr := newTree(t, Options{}, dir("d/").by("a"), file("d", "x").by("b"))
	if diff := cmp.Diff([]string{". directory 0755 0:0", `d file 0644 0:0 b "x"`}, listing(t, tr)); diff != "" {
		t.Error(diff)
	}
}
