package apk

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rootfsd/rootfsd/repo/fstree"
)

const goldenDir = "golden/minirootfs-3.19.4-x86_64"

// The 8 packages of the golden minirootfs whose .apk is byte-identical to
// the ISO repository's (fixtures README, "Golden minirootfs 3.19.4").
var identical = []string{"alpine-baselayout", "alpine-baselayout-data", "alpine-keys", "libc-utils",
	"musl", "musl-utils", "scanelf", "zlib"}

// installWorld resolves world in the fixture repository rel and installs
// it into a new tree.
func installWorld(t *testing.T, rel string, world ...string) (*fstree.Tree, *Installer) {
	t.Helper()
	repos := fixtureRepos(t, rel)
	r, err := NewResolver(repos)
	if err != nil {
		t.Fatal(err)
	}
	gs := goals(world...)
	sol, err := r.Resolve(gs)
	if err != nil {
		t.Fatal(err)
	}
	tree := fstree.New(fstree.Options{TempDir: t.TempDir()})
	t.Cleanup(func() { tree.Close() })
	in := NewInstaller(tree, AllKeys(), Limits{})
	for _, p := range sol.Packages {
		f, err := os.Open(fixture(t, rel+"/"+p.Package.Filename()))
		if err != nil {
			t.Fatal(err)
		}
		_, err = in.Install(context.Background(), p.Package, "", f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	var deps []Dep
	for _, g := range gs {
		deps = append(deps, g.Dep)
	}
	if err := in.Finish(context.Background(), FinishOptions{World: deps, Arch: "x86_64"}); err != nil {
		t.Fatal(err)
	}
	return tree, in
}

// records splits an installed database into records by package name.
func records(db string) map[string][]string {
	out := map[string][]string{}
	for _, rec := range strings.Split(strings.TrimSuffix(db, "\n"), "\n\n") {
		lines := strings.Split(rec, "\n")
		for _, l := range lines {
			if name, ok := strings.CutPrefix(l, "P:"); ok {
				out[name] = lines
			}
		}
	}
	return out
}

// The installed-db records of the 8 byte-identical packages equal the
// golden ones, field for field; the other files of lib/apk/db and etc/apk
// have the golden format.
func TestGoldenInstalledDB(t *testing.T) {
	tree, in := installWorld(t, isoRepo, minirootfsWorld...)
	if len(in.Installed()) != 15 {
		t.Fatalf("%d packages installed", len(in.Installed()))
	}
	if nr := in.NotRun(); len(nr) != 0 {
		t.Errorf("scripts not run: %v", nr)
	}
	db, err := tree.ReadFile("lib/apk/db/installed")
	if err != nil {
		t.Fatal(err)
	}
	got := records(string(db))
	want := records(string(readFixture(t, goldenDir+"/installed")))
	if len(got) != 15 || len(want) != 15 {
		t.Fatalf("records: got %d, golden %d", len(got), len(want))
	}
	for _, name := range identical {
		if len(want[name]) < 10 {
			t.Fatalf("golden record of %s: %v", name, want[name])
		}
		if diff := cmp.Diff(want[name], got[name]); diff != "" {
			t.Errorf("installed record of %s (-golden +got):\n%s", name, diff)
		}
	}
	// Same names, sorted the same way.
	var gotNames, wantNames []string
	for _, l := range strings.Split(string(db), "\n") {
		if n, ok := strings.CutPrefix(l, "P:"); ok {
			gotNames = append(gotNames, n)
		}
	}
	for _, l := range strings.Split(string(readFixture(t, goldenDir+"/installed")), "\n") {
		if n, ok := strings.CutPrefix(l, "P:"); ok {
			wantNames = append(wantNames, n)
		}
	}
	if diff := cmp.Diff(wantNames, gotNames); diff != "" {
		t.Errorf("package order (-golden +got):\n%s", diff)
	}

	for _, f := range []struct {
		name string
		want []byte
		mode uint32
	}{
		{"etc/apk/world", readFixture(t, goldenDir+"/world"), 0o644},
		{"etc/apk/arch", []byte("x86_64\n"), 0o644},
		{"lib/apk/db/lock", nil, 0o600},
		{"lib/apk/db/triggers", []byte("Q1AYNx2pLOAHRYZQgv3nM8TNtvRWY= /bin /usr/bin /sbin /usr/sbin /lib/modules/*\n"), 0o644},
	} {
		data, err := tree.ReadFile(f.name)
		if err != nil {
			t.Error(err)
			continue
		}
		if !bytes.Equal(data, f.want) {
			t.Errorf("%s = %q, want %q", f.name, data, f.want)
		}
		if info, _ := tree.Lookup(f.name); info.Mode != f.mode {
			t.Errorf("%s mode %o, want %o", f.name, info.Mode, f.mode)
		}
	}
	if info, err := tree.Lookup("var/cache/apk"); err != nil || info.Kind != fstree.KindDir {
		t.Errorf("var/cache/apk: %v %v", info.Kind, err)
	}
}

// tarBlocks splits a tar into its entries' raw bytes (header and data
// blocks) by name.
func tarBlocks(t *testing.T, data []byte) (map[string][]byte, []string) {
	t.Helper()
	out := map[string][]byte{}
	var order []string
	for off := 0; off+512 <= len(data); {
		h := data[off : off+512]
		if bytes.Equal(h, make([]byte, 512)) {
			off += 512
			continue
		}
		name := string(bytes.TrimRight(h[:100], "\x00"))
		var size int64
		fmt.Sscanf(strings.Trim(string(h[124:136]), "\x00 "), "%o", &size)
		end := off + 512 + int((size+511)/512*512)
		out[name] = data[off:end]
		order = append(order, name)
		off = end
	}
	return out, order
}

// scripts.tar: alpine-baselayout's four entries are byte-identical to the
// golden ones, and busybox's come first, as apk installs it first.
func TestGoldenScriptsTar(t *testing.T) {
	tree, _ := installWorld(t, isoRepo, minirootfsWorld...)
	data, err := tree.ReadFile("lib/apk/db/scripts.tar")
	if err != nil {
		t.Fatal(err)
	}
	golden := readFixture(t, goldenDir+"/scripts.tar")
	if len(data)%512 != 0 || !bytes.Equal(data[len(data)-1024:], make([]byte, 1024)) {
		t.Errorf("scripts.tar does not end in two zero blocks")
	}
	got, order := tarBlocks(t, data)
	want, _ := tarBlocks(t, golden)
	n := 0
	for name, block := range want {
		if strings.HasPrefix(name, "alpine-baselayout-") {
			n++
			if !bytes.Equal(got[name], block) {
				t.Errorf("%s differs from the golden entry", name)
			}
		}
	}
	if n != 4 {
		t.Errorf("golden has %d alpine-baselayout scripts", n)
	}
	wantOrder := []string{
		"busybox-1.36.1-r15.Q1AYNx2pLOAHRYZQgv3nM8TNtvRWY=.post-install",
		"busybox-1.36.1-r15.Q1AYNx2pLOAHRYZQgv3nM8TNtvRWY=.post-upgrade",
		"busybox-1.36.1-r15.Q1AYNx2pLOAHRYZQgv3nM8TNtvRWY=.trigger",
		"alpine-baselayout-3.4.3-r2.Q16vHLRZoP2NZ2lLj3reL8p+l/YE4=.pre-install",
		"alpine-baselayout-3.4.3-r2.Q16vHLRZoP2NZ2lLj3reL8p+l/YE4=.post-install",
		"alpine-baselayout-3.4.3-r2.Q16vHLRZoP2NZ2lLj3reL8p+l/YE4=.pre-upgrade",
		"alpine-baselayout-3.4.3-r2.Q16vHLRZoP2NZ2lLj3reL8p+l/YE4=.post-upgrade",
	}
	if diff := cmp.Diff(wantOrder, order); diff != "" {
		t.Errorf("scripts.tar entries (-want +got):\n%s", diff)
	}
}

// The assembled tree equals the golden minirootfs for everything the 8
// identical packages own, the 303 busybox links and the edited etc/shadow.
func TestGoldenTree(t *testing.T) {
	tree, _ := installWorld(t, isoRepo, minirootfsWorld...)
	f, err := os.Open(fixture(t, goldenDir+"/tree.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	checked := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		c := strings.Split(sc.Text(), "\t")
		if len(c) != 8 || c[0] == "# path" || strings.HasPrefix(c[0], "#") {
			continue
		}
		owners := strings.Split(c[7], ",")
		busyboxLink := c[1] == "l" && c[6] == "/bin/busybox" && c[7] == "-"
		if !busyboxLink && !subset(owners, identical) {
			continue
		}
		if c[0] == "proc" { // 0555 in the image, 0755 in the package
			continue
		}
		info, err := tree.Lookup(c[0])
		if err != nil {
			t.Errorf("%s: %v", c[0], err)
			continue
		}
		got := []string{c[0], kindLetter(info.Kind), fmt.Sprintf("%04o", info.Mode), fmt.Sprint(info.UID), fmt.Sprint(info.GID)}
		switch info.Kind {
		case fstree.KindFile:
			r, err := tree.Open(c[0])
			if err != nil {
				t.Fatal(err)
			}
			h := sha256.New()
			io.Copy(h, r)
			got = append(got, fmt.Sprint(info.Size), hex.EncodeToString(h.Sum(nil)))
		case fstree.KindSymlink:
			got = append(got, "0", info.Target)
		default:
			got = append(got, "0", "-")
		}
		if diff := cmp.Diff(c[:7], got); diff != "" {
			t.Errorf("%s (-golden +got):\n%s", c[0], diff)
		}
		checked++
	}
	t.Logf("%d golden paths checked", checked)
	if checked < 303+100 {
		t.Errorf("only %d paths checked", checked)
	}
}

func subset(a, of []string) bool {
	for _, x := range a {
		if !contains(of, x) {
			return false
		}
	}
	return true
}

func kindLetter(k fstree.Kind) string {
	switch k {
	case fstree.KindFile:
		return "f"
	case fstree.KindDir:
		return "d"
	case fstree.KindSymlink:
		return "l"
	}
	return k.String()
}
