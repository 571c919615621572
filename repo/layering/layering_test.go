package layering

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"path"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rootfsd/rootfsd/repo/fstree"
)

// listDB is a tiny package database: db/<pkg>.list, one path a line.
var listDB = Database{
	Match: func(n string) bool { return strings.HasPrefix(n, "db/") && strings.HasSuffix(n, ".list") },
	Parse: func(files map[string][]byte) (map[string][]string, error) {
		out := map[string][]string{}
		for n, data := range files {
			pkg := strings.TrimSuffix(path.Base(n), ".list")
			out[pkg] = strings.Fields(string(data))
		}
		return out, nil
	},
}

// file is one file of a test tree: its package, path and content.
type file struct{ pkg, path, data string }

// buildTree writes a merged-/usr tree holding files, with directory
// mtimes that depend on dirTime (as when another package set creates the
// same directories first), and db/<pkg>.list for every package.
func buildTree(t *testing.T, files []file, dirTime time.Time) []byte {
	t.Helper()
	tr := fstree.New(fstree.Options{})
	defer tr.Close()
	dir := fstree.Attr{Mode: 0o755, ModTime: dirTime}
	must(t, tr.MkdirAll("usr/lib", dir))
	must(t, tr.MkdirAll("usr/bin", dir))
	must(t, tr.MkdirAll("db", dir))
	must(t, tr.Symlink("usr/lib", "lib", fstree.Attr{Mode: 0o777}))
	must(t, tr.Symlink("usr/bin", "bin", fstree.Attr{Mode: 0o777}))
	lists := map[string][]string{}
	for _, f := range files {
		if strings.HasPrefix(f.data, "link:") {
			must(t, tr.Link(strings.TrimPrefix(f.data, "link:"), f.path))
		} else {
			must(t, tr.MkdirAll(path.Dir(f.path), dir))
			must(t, tr.WriteFile(f.path, []byte(f.data), fstree.Attr{Mode: 0o644, ModTime: time.Unix(1e9, 0)}))
		}
		if f.pkg != "" {
			lists[f.pkg] = append(lists[f.pkg], "/"+f.path)
		}
	}
	for pkg, l := range lists {
		must(t, tr.WriteFile("db/"+pkg+".list", []byte(strings.Join(l, "\n")+"\n"), fstree.Attr{Mode: 0o644}))
	}
	must(t, tr.MkdirAll("etc", dir))
	must(t, tr.WriteFile("etc/passwd", []byte("root:x:0:0::/root:/bin/sh\n"), fstree.Attr{Mode: 0o644}))
	var buf bytes.Buffer
	must(t, tr.WriteTar(&buf, fstree.TarOptions{}))
	return buf.Bytes()
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// split plans and writes the layers of full.
func split(t *testing.T, full []byte, rules Rules) (*Plan, [][]byte) {
	t.Helper()
	p, err := NewPlan(context.Background(), bytes.NewReader(full), listDB, rules)
	must(t, err)
	bufs := make([]*bytes.Buffer, len(p.Groups))
	ws := make([]io.Writer, len(p.Groups))
	for i := range bufs {
		bufs[i] = &bytes.Buffer{}
		ws[i] = bufs[i]
	}
	must(t, p.Write(context.Background(), bytes.NewReader(full), ws))
	out := make([][]byte, len(bufs))
	for i, b := range bufs {
		out[i] = b.Bytes()
	}
	return p, out
}

// node is a flattened path: everything a layer says about it.
type node struct {
	Type           byte
	Mode           int64
	UID, GID       int
	MTime          int64
	Link, Content  string
	Xattrs         map[string]string
	HardLinkTarget string
}

// flatten applies layers bottom first, a later entry replacing an earlier
// one, as a container runtime does, and checks that a hard link's target
// is in the same layer.
func flatten(t *testing.T, layers ...[]byte) map[string]node {
	t.Helper()
	out := map[string]node{}
	for i, l := range layers {
		inLayer := map[string]bool{}
		tr := tar.NewReader(bytes.NewReader(l))
		for {
			hdr, err := tr.Next()
			if err == io.EOF {
				break
			}
			must(t, err)
			n := strings.TrimSuffix(hdr.Name, "/")
			data, err := io.ReadAll(tr)
			must(t, err)
			e := node{Type: hdr.Typeflag, Mode: hdr.Mode, UID: hdr.Uid, GID: hdr.Gid, MTime: hdr.ModTime.Unix(), Xattrs: hdr.Xattrs}
			switch hdr.Typeflag {
			case tar.TypeSymlink:
				e.Link = hdr.Linkname
			case tar.TypeLink:
				if !inLayer[hdr.Linkname] {
					t.Errorf("layer %d: hard link %s to %s, which is not in the layer", i+1, n, hdr.Linkname)
				}
				e.HardLinkTarget, e.Content, e.Type = hdr.Linkname, out[hdr.Linkname].Content, tar.TypeReg
			default:
				e.Content = string(data)
			}
			inLayer[n] = true
			out[n] = e
		}
	}
	return out
}

// tryFlatten is flatten without a test: ok is false when a layer does not
// read as a tar.
func tryFlatten(layers ...[]byte) (out map[string]node, ok bool) {
	out = map[string]node{}
	for _, l := range layers {
		tr := tar.NewReader(bytes.NewReader(l))
		for {
			hdr, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, false
			}
			data, err := io.ReadAll(tr)
			if err != nil {
				return nil, false
			}
			n := strings.TrimSuffix(strings.TrimPrefix(hdr.Name, "./"), "/")
			out[n] = node{Type: hdr.Typeflag, Mode: hdr.Mode, UID: hdr.Uid, GID: hdr.Gid, MTime: hdr.ModTime.Unix(), Link: hdr.Linkname, Content: string(data)}
		}
	}
	return out, true
}

func sum(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// members lists the non-directory paths of a layer tar.
func members(t *testing.T, l []byte) []string {
	t.Helper()
	var out []string
	tr := tar.NewReader(bytes.NewReader(l))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return out
		}
		must(t, err)
		if hdr.Typeflag != tar.TypeDir {
			out = append(out, hdr.Name)
		}
	}
}

var base = []file{
	{"libc6", "lib/x86_64-linux-gnu/libc.so.6", "libc"},
	{"libc6", "usr/lib/x86_64-linux-gnu/ld.so", "ld"},
	{"libc6", "usr/lib/x86_64-linux-gnu/ld-hard.so", "link:usr/lib/x86_64-linux-gnu/ld.so"},
	{"coreutils", "bin/ls", "ls"},
	{"libssl3t64", "usr/lib/x86_64-linux-gnu/libssl.so.3", "ssl"},
}

func TestSplitFlattensToTheFullLayer(t *testing.T) {
	files := append(append([]file{}, base...),
		file{"hello", "usr/bin/hello", "hello"},
		// A hard link to libc6's file that sorts first: the tar writes
		// it as the file and libc.so.6 as the link, so both go to the
		// last layer (a link stays in its target's layer).
		file{"hello", "usr/bin/hello-libc", "link:usr/lib/x86_64-linux-gnu/libc.so.6"},
		file{"big", "usr/share/big/data", strings.Repeat("x", 2000)},
		file{"", "etc/ld.so.cache", "cache"}, // owned by no package
	)
	full := buildTree(t, files, time.Unix(2e9, 0))
	p, layers := split(t, full, Rules{Base: []string{"libc6", "libssl3*", "coreutils"}, Threshold: 1000})
	var groups [][]string
	for _, g := range p.Groups {
		groups = append(groups, g.Packages)
	}
	if diff := cmp.Diff([][]string{{"libc6"}, {"libssl3t64"}, {"coreutils"}, {"big"}, nil}, groups); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}
	got := map[int][]string{}
	for i, l := range layers {
		got[i] = members(t, l)
	}
	want := map[int][]string{
		0: {"usr/lib/x86_64-linux-gnu/ld.so", "usr/lib/x86_64-linux-gnu/ld-hard.so"},
		1: {"usr/lib/x86_64-linux-gnu/libssl.so.3"},
		2: {"usr/bin/ls"},
		3: {"usr/share/big/data"},
		4: {"bin", "db/big.list", "db/coreutils.list", "db/hello.list", "db/libc6.list", "db/libssl3t64.list", "etc/ld.so.cache", "etc/passwd", "lib",
			"usr/bin/hello", "usr/bin/hello-libc", "usr/lib/x86_64-linux-gnu/libc.so.6"},
	}
	if diff := cmp.Diff(want, got, sortStrings()); diff != "" {
		t.Errorf("layer members (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(flatten(t, full), flatten(t, layers...)); diff != "" {
		t.Errorf("flattened layers differ from the full layer (-full +split):\n%s", diff)
	}
	total := 0
	for _, g := range p.Groups {
		total += g.Entries
	}
	if total == 0 || p.Groups[0].Bytes != int64(len("ld")) {
		t.Errorf("group counts: %+v", p.Groups)
	}
}

func TestBaseLayersAreSharedAcrossPackageSets(t *testing.T) {
	rules := Rules{Base: []string{"libc6", "libssl3*", "coreutils"}}
	a := buildTree(t, append(append([]file{}, base...), file{"curl", "usr/bin/curl", "curl"}), time.Unix(1.5e9, 0))
	b := buildTree(t, append(append([]file{}, base...), file{"wget", "usr/bin/wget", "wget"}, file{"wget", "etc/wgetrc", "rc"}), time.Unix(1.7e9, 0))
	if sum(a) == sum(b) {
		t.Fatal("the two full layers are equal: the test shows nothing")
	}
	pa, la := split(t, a, rules)
	pb, lb := split(t, b, rules)
	if len(la) != 4 || len(lb) != 4 {
		t.Fatalf("got %d and %d layers, want 4 each: %+v %+v", len(la), len(lb), pa.Groups, pb.Groups)
	}
	for i := range 3 {
		if sum(la[i]) != sum(lb[i]) {
			t.Errorf("layer %d (%v) differs between the two package sets", i+1, pa.Groups[i].Packages)
		}
	}
	if sum(la[3]) == sum(lb[3]) {
		t.Error("the last layers are equal although the package sets differ")
	}
	// The same input splits to the same bytes.
	_, again := split(t, a, rules)
	for i := range la {
		if sum(la[i]) != sum(again[i]) {
			t.Errorf("layer %d differs between two splits of the same layer", i+1)
		}
	}
}

func TestSharedPathsAndUnknownOwnersStayInTheLastLayer(t *testing.T) {
	files := append(append([]file{}, base...), file{"other", "usr/bin/ls", "ls"}) // ls claimed twice
	full := buildTree(t, files, time.Unix(2e9, 0))
	p, layers := split(t, full, Rules{Base: []string{"coreutils", "nothing-*"}, Threshold: -1})
	if len(p.Groups) != 1 {
		t.Fatalf("groups %+v, want only the last layer (coreutils' only file is claimed twice)", p.Groups)
	}
	if diff := cmp.Diff(flatten(t, full), flatten(t, layers...)); diff != "" {
		t.Errorf("flattened layers differ from the full layer (-full +split):\n%s", diff)
	}
}

func TestResolveDirs(t *testing.T) {
	entries := map[string]entry{
		"lib":     {typ: tar.TypeSymlink, link: "usr/lib"},
		"lib64":   {typ: tar.TypeSymlink, link: "/usr/lib64"},
		"usr/lib": {typ: tar.TypeDir},
		"loop":    {typ: tar.TypeSymlink, link: "loop"},
		"usr/x":   {typ: tar.TypeSymlink, link: "../lib"},
	}
	for in, want := range map[string]string{
		"/lib/a/b":        "usr/lib/a/b",
		"lib64/ld.so":     "usr/lib64/ld.so",
		"/usr/lib/c":      "usr/lib/c",
		"/lib":            "lib",
		"/loop/x":         "loop/x",
		"/usr/x/y":        "usr/lib/y",
		"./etc/../etc/hi": "etc/hi",
	} {
		if got := resolveDirs(entries, in); got != want {
			t.Errorf("resolveDirs(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCheck(t *testing.T) {
	for s, ok := range map[string]bool{"": true, "single": true, "groups": true, "layers": false} {
		if err := Check(s); (err == nil) != ok {
			t.Errorf("Check(%q) = %v", s, err)
		}
	}
}

func sortStrings() cmp.Option {
	return cmp.Transformer("sort", func(in []string) []string {
		out := append([]string(nil), in...)
		slices.Sort(out)
		return out
	})
}
