package fstree

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// sample has one of everything WriteTar must handle.
func sample() []entry {
	long := "usr/share/doc/" + strings.Repeat("long-name-", 12) + "/README"
	return []entry{
		dir("./"), dir("usr/"), dir("usr/bin/"), dir("etc/"),
		{name: "usr/bin/sudo", body: "sudo", typ: tar.TypeReg, mode: 0o4755},
		hardlink("usr/bin/sudoedit", "usr/bin/sudo"),
		symlink("bin", "usr/bin"),
		file("etc/passwd", "root:x:0:0::/root:/bin/sh\n"),
		file(long, strings.Repeat("x", 5000)),
		{name: "tmp/", typ: tar.TypeDir, mode: 0o1777},
		{name: "dev/null", typ: tar.TypeChar, mode: 0o666},
		{name: "run/initctl", typ: tar.TypeFifo, mode: 0o600},
	}
}

// capNetRaw is a VFS_CAP_REVISION_2 security.capability value granting
// cap_net_raw (bit 13), effective.
const capNetRaw = "\x01\x00\x00\x02\x00\x20\x00\x00" + "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"

func sampleTree(t testing.TB, reverse bool) *Tree {
	es := sample()
	tr := newTree(t, Options{InlineMax: 100})
	if reverse { // parents are created implicitly, then made explicit
		for i := len(es) - 1; i >= 0; i-- {
			if es[i].typ != tar.TypeLink {
				add(t, tr, es[i])
			}
		}
		add(t, tr, hardlink("usr/bin/sudoedit", "usr/bin/sudo"))
	} else {
		add(t, tr, es...)
	}
	hdr := &tar.Header{Name: "usr/bin/ping", Typeflag: tar.TypeReg, Mode: 0o755, Size: 4, Uid: 1 << 22, Gid: 42,
		Uname: "big", Gname: "grp", ModTime: time.Unix(2000000000, 500),
		PAXRecords: map[string]string{"SCHILY.xattr.security.capability": capNetRaw, "SCHILY.xattr.user.b": "2"}}
	if _, err := tr.Add(hdr, strings.NewReader("ping"), "iputils"); err != nil {
		t.Fatal(err)
	}
	return tr
}

func writeTar(t testing.TB, tr *Tree, opts TarOptions) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := tr.WriteTar(&b, opts); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestWriteTarDeterministic(t *testing.T) {
	opts := TarOptions{Epoch: time.Unix(1800000000, 0), Root: true}
	a := writeTar(t, sampleTree(t, false), opts)
	b := writeTar(t, sampleTree(t, false), opts)
	c := writeTar(t, sampleTree(t, true), opts)
	if !bytes.Equal(a, b) || !bytes.Equal(a, c) {
		t.Fatalf("same tree, different tars: %d, %d, %d bytes", len(a), len(b), len(c))
	}
	sum := sha256.Sum256(a)
	golden(t, "sample.tar.sha256", hex.EncodeToString(sum[:])+"\n")
	golden(t, "sample.tar.list", strings.Join(tarList(t, a), "\n")+"\n")
}

// tarList renders a tar's headers, one line each, as read by archive/tar.
func tarList(t testing.TB, b []byte) []string {
	t.Helper()
	var out []string
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		keys := slices.Sorted(maps.Keys(h.PAXRecords))
		s := fmt.Sprintf("%c %s %04o %d:%d %s:%s %s %d %s %s %s", h.Typeflag, h.Name, h.Mode, h.Uid, h.Gid,
			h.Uname, h.Gname, h.ModTime.UTC().Format(time.RFC3339), h.Size, h.Linkname, h.Format, keys)
		out = append(out, strings.TrimSpace(s))
		if !h.AccessTime.IsZero() || !h.ChangeTime.IsZero() {
			t.Errorf("%s has atime or ctime", h.Name)
		}
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s (-golden +got):\n%s", name, diff)
	}
}

func TestWriteTarOptions(t *testing.T) {
	tr := sampleTree(t, false)
	epoch := time.Unix(1800000000, 0)
	hdrs := func(opts TarOptions) map[string]*tar.Header {
		m := map[string]*tar.Header{}
		r := tar.NewReader(bytes.NewReader(writeTar(t, tr, opts)))
		for {
			h, err := r.Next()
			if err == io.EOF {
				return m
			}
			if err != nil {
				t.Fatal(err)
			}
			m[h.Name] = h
		}
	}
	plain := hdrs(TarOptions{})
	if _, ok := plain["./"]; ok {
		t.Error("root entry written without Root")
	}
	ping := plain["usr/bin/ping"]
	if ping.Uname != "" || ping.Gname != "" || ping.Uid != 1<<22 || !ping.ModTime.Equal(time.Unix(2000000000, 0)) {
		t.Errorf("default ping header: %q %q %d %v", ping.Uname, ping.Gname, ping.Uid, ping.ModTime)
	}
	named := hdrs(TarOptions{Names: true, Epoch: epoch})["usr/bin/ping"]
	if named.Uname != "big" || named.Gname != "grp" || !named.ModTime.Equal(epoch) {
		t.Errorf("named, clamped ping header: %q %q %v", named.Uname, named.Gname, named.ModTime)
	}
	if old := hdrs(TarOptions{Epoch: epoch})["etc/passwd"]; !old.ModTime.Equal(time.Unix(1700000000, 0)) {
		t.Errorf("an mtime before the epoch changed: %v", old.ModTime)
	}
	if got := ping.PAXRecords["SCHILY.xattr.user.b"]; got != "2" {
		t.Errorf("xattr user.b = %q", got)
	}
	if l := plain["usr/bin/sudoedit"]; l.Typeflag != tar.TypeLink || l.Linkname != "usr/bin/sudo" {
		t.Errorf("hard link header: %c %q", l.Typeflag, l.Linkname)
	}
}

func TestTarRoundTrip(t *testing.T) {
	tr := sampleTree(t, false)
	b := writeTar(t, tr, TarOptions{Root: true, Names: true})
	back := newTree(t, Options{})
	if err := back.ReadTar(bytes.NewReader(b), ""); err != nil {
		t.Fatal(err)
	}
	strip := func(l []string) []string { // ReadTar has no owner tags
		out := make([]string, len(l))
		for i, s := range l {
			for _, o := range []string{" iputils"} {
				s = strings.Replace(s, o, "", 1)
			}
			out[i] = s
		}
		return out
	}
	if diff := cmp.Diff(strip(listing(t, tr)), listing(t, back)); diff != "" {
		t.Errorf("round trip (-written +read):\n%s", diff)
	}
	if !bytes.Equal(b, writeTar(t, back, TarOptions{Root: true, Names: true})) {
		t.Error("a tree read from a tar writes a different tar")
	}
}

// TestWriteTarGNU checks GNU tar reads our output the same way.
func TestWriteTarGNU(t *testing.T) {
	if _, err := exec.LookPath("tar"); err != nil {
		t.Skip("no tar binary")
	}
	b := writeTar(t, sampleTree(t, false), TarOptions{})
	cmd := exec.Command("tar", "--numeric-owner", "-tvf", "-")
	cmd.Stdin = bytes.NewReader(b)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("tar -t: %v\n%s", err, out)
	}
	for _, want := range []string{"usr/bin/sudoedit link to usr/bin/sudo", "bin -> usr/bin", "-rwsr-xr-x 0/0", "drwxrwxrwt 0/0",
		"usr/share/doc/" + strings.Repeat("long-name-", 12) + "/README", "crw-rw-rw- 0/0", "4194304/42"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("tar -tv output lacks %q:\n%s", want, out)
		}
	}
}
