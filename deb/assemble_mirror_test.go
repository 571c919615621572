//go:build mirror

package deb_test

// Fidelity of deb.Assemble against mmdebstrap on the real archives: the
// same package set, assembled by rootfsd with --trim none, must give the
// tree mmdebstrap --variant=essential --mode=root gives, except for the
// differences listed in expectedDifferences. Mirrors come from
// ROOTFSD_MIRROR / ROOTFSD_SECURITY_MIRROR or host discovery, and
// mmdebstrap gets the same URLs on its command line.
//
// Run as root with: go test -tags mirror -run Assemble -v ./deb/
// ROOTFSD_TEST_STORE=dir keeps downloads between runs, ROOTFSD_TEST_KEEP=dir
// keeps the assembled trees.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rootfsd/rootfsd/deb"
	"github.com/rootfsd/rootfsd/repo"
	"github.com/rootfsd/rootfsd/repo/fstree"
	"github.com/rootfsd/rootfsd/store"
)

// expectedDifferences are the paths (and everything below them) where the
// two trees may differ, and why.
var expectedDifferences = []struct{ path, why string }{
	{"dev", "mmdebstrap makes device nodes (console, null, pts, ...); rootfsd ships none, the container runtime provides /dev"},
	{"etc/hostname", "mmdebstrap copies the host's"},
	{"etc/resolv.conf", "mmdebstrap copies the host's"},
	{"etc/fstab", "mmdebstrap writes debootstrap's '# UNCONFIGURED FSTAB'; rootfsd builds images and writes none"},
	{"etc/apt/sources.list", "mmdebstrap's download configuration (no apt in these trees)"},
	{"etc/apt/sources.list.d", "mmdebstrap's download configuration"},
	{"etc/apt/preferences.d", "mmdebstrap's download configuration"},
	{"var/lib/apt", "apt's lists and state from mmdebstrap's download"},
	{"var/cache/apt", "apt's cache from mmdebstrap's download"},
	{"var/log/apt", "apt's log directory from mmdebstrap's download"},
	{"var/lib/dpkg/status-old", "dpkg's backup of the previous status"},
	{"var/lib/dpkg/diversions-old", "dpkg-divert's backup of the previous diversions"},
	{"var/cache/debconf/config.dat-old", "debconf's backup of the previous database"},
	{"var/cache/debconf/templates.dat-old", "debconf's backup of the previous database"},
}

func expected(p string) bool {
	for _, e := range expectedDifferences {
		if p == e.path || strings.HasPrefix(p, e.path+"/") {
			return true
		}
	}
	return false
}

func testStore(t *testing.T) *store.Store {
	if dir := os.Getenv("ROOTFSD_TEST_STORE"); dir != "" {
		st, err := store.Open(dir, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	return sharedStore(t)
}

// fetched resolves a request and downloads its packages.
func fetched(t *testing.T, req repo.Request) (*repo.Plan, func(repo.Planned) (io.ReadCloser, error), repo.Resolved) {
	t.Helper()
	d, err := repo.LookupDistro(req.Distro)
	if err != nil {
		t.Fatal(err)
	}
	m := mirrorsFor(t, d)
	st := testStore(t)
	b := backend(t)
	b.Cache, b.Fetcher = st, &repo.Fetcher{Cache: st}
	ctx := context.Background()
	plan, err := b.Resolve(ctx, req)
	if err != nil {
		t.Fatalf("resolve: %v", err)
	}
	digests := map[string]string{}
	for _, p := range plan.Packages {
		dg, err := b.FetchPackage(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		digests[p.ID()] = dg
	}
	open := func(p repo.Planned) (io.ReadCloser, error) { return st.Open(ctx, digests[p.ID()]) }
	return plan, open, m
}

// mmdebstrap builds the reference tree into dir (or reuses
// ROOTFSD_TEST_MMDEBSTRAP_<CODENAME>[_<PACKAGES>], a tree built the same
// way, e.g. ROOTFSD_TEST_MMDEBSTRAP_NOBLE_CA_CERTIFICATES).
func mmdebstrap(t *testing.T, d *repo.Distro, m repo.Resolved, include []string, dir string) string {
	t.Helper()
	key := strings.ToUpper(d.Codename)
	for _, p := range include {
		key += "_" + strings.ToUpper(strings.ReplaceAll(p, "-", "_"))
	}
	if cached := os.Getenv("ROOTFSD_TEST_MMDEBSTRAP_" + key); cached != "" {
		return cached
	}
	if _, err := exec.LookPath("mmdebstrap"); err != nil {
		t.Skip("SKIPPING: mmdebstrap is not installed")
	}
	kr, err := deb.Keyring(d.Keyring)
	if err != nil {
		t.Fatal(err)
	}
	var keys bytes.Buffer
	for _, e := range kr {
		e.Serialize(&keys)
	}
	keyFile := filepath.Join(t.TempDir(), "keyring.gpg")
	os.WriteFile(keyFile, keys.Bytes(), 0o644)
	args := []string{"--variant=essential", "--mode=root", "--format=directory", "--keyring=" + keyFile}
	if len(include) > 0 {
		args = append(args, "--include="+strings.Join(include, ","))
	}
	out := filepath.Join(dir, "mmdebstrap")
	args = append(args, d.Codename, out)
	for _, p := range d.Pockets {
		url := m.Mirror
		if p.Security {
			url = m.SecurityMirror
		}
		args = append(args, fmt.Sprintf("deb %s %s %s", url, p.Suite, strings.Join(d.Components, " ")))
	}
	start := time.Now()
	cmd := exec.Command("mmdebstrap", args...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mmdebstrap %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	t.Logf("mmdebstrap took %v", time.Since(start).Round(time.Millisecond))
	return out
}

// node is what the comparison looks at for one path.
type node struct {
	kind     string
	mode     fs.FileMode
	uid, gid uint32
	target   string
	digest   string
}

func (n node) String() string {
	s := fmt.Sprintf("%s %v %d:%d", n.kind, n.mode, n.uid, n.gid)
	if n.target != "" {
		s += " -> " + n.target
	}
	if n.digest != "" {
		s += " sha256:" + n.digest[:12]
	}
	return s
}

func walkDir(t *testing.T, root string) map[string]node {
	t.Helper()
	out := map[string]node{}
	err := filepath.WalkDir(root, func(full string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, full)
		fi, err := os.Lstat(full)
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		n := node{mode: fi.Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky), uid: st.Uid, gid: st.Gid}
		switch {
		case fi.Mode().IsDir():
			n.kind = "dir"
		case fi.Mode()&fs.ModeSymlink != 0:
			n.kind, n.mode = "symlink", 0
			n.target, _ = os.Readlink(full)
		case fi.Mode().IsRegular():
			n.kind = "file"
			data, err := os.ReadFile(full)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(data)
			n.digest = hex.EncodeToString(sum[:])
		default:
			n.kind = fi.Mode().Type().String()
		}
		out[filepath.ToSlash(rel)] = n
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// compareTrees lists every difference outside the expected ones.
func compareTrees(got, want map[string]node) []string {
	var diffs []string
	for p, w := range want {
		if expected(p) {
			continue
		}
		g, ok := got[p]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("only in mmdebstrap: %s (%v)", p, w))
		case g != w:
			diffs = append(diffs, fmt.Sprintf("differs: %s: rootfsd %v, mmdebstrap %v", p, g, w))
		}
	}
	for p, g := range got {
		if _, ok := want[p]; !ok && !expected(p) {
			diffs = append(diffs, fmt.Sprintf("only in rootfsd: %s (%v)", p, g))
		}
	}
	sort.Strings(diffs)
	return diffs
}

func TestMirrorAssembleFidelity(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("SKIPPING: mmdebstrap --mode=root and the tree comparison need root")
	}
	cases := []struct {
		distro string
		pkgs   []string
	}{
		{"debian:12", nil},
		{"ubuntu:24.04", []string{"ca-certificates"}},
	}
	// More sets, slower: bookworm with tzdata, jammy (split-/usr).
	if os.Getenv("ROOTFSD_TEST_FIDELITY_EXTRA") != "" {
		cases = append(cases, struct {
			distro string
			pkgs   []string
		}{"debian:12", []string{"tzdata"}}, struct {
			distro string
			pkgs   []string
		}{"ubuntu:22.04", nil})
	}
	for _, tc := range cases {
		t.Run(tc.distro+"+"+strings.Join(tc.pkgs, "+"), func(t *testing.T) {
			d, _ := repo.LookupDistro(tc.distro)
			plan, open, m := fetched(t, repo.Request{Distro: tc.distro, Arch: "amd64", Variant: repo.VariantEssential, Packages: tc.pkgs})
			work := t.TempDir()
			tree := fstree.New(fstree.Options{TempDir: work})
			defer tree.Close()
			start := time.Now()
			res, err := deb.Assemble(context.Background(), tree, plan, open, deb.AssembleOptions{Trim: "none", Epoch: time.Unix(1700000000, 0)})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("assembled %d packages in %v; warnings: %q; uncovered: %q", len(plan.Packages), time.Since(start).Round(time.Millisecond), res.Warnings, res.Uncovered)
			if len(res.Uncovered) > 0 {
				t.Errorf("uncovered packages: %v", res.Uncovered)
			}
			ours := filepath.Join(work, "rootfsd")
			if keep := os.Getenv("ROOTFSD_TEST_KEEP"); keep != "" {
				ours = filepath.Join(keep, d.Codename+strings.Join(append([]string{""}, tc.pkgs...), "-"))
				os.RemoveAll(ours)
			}
			if err := tree.WriteDir(ours, fstree.DirOptions{}); err != nil {
				t.Fatal(err)
			}
			ref := mmdebstrap(t, d, m, tc.pkgs, work)
			checkSameVersions(t, plan, ref)
			diffs := compareTrees(walkDir(t, ours), walkDir(t, ref))
			for _, e := range expectedDifferences {
				t.Logf("expected difference: /%s: %s", e.path, e.why)
			}
			if len(diffs) > 0 {
				t.Errorf("%d unexpected differences:\n%s", len(diffs), strings.Join(diffs, "\n"))
			}
			checkDpkgList(t, plan, ours)
		})
	}
}

// checkSameVersions makes sure both trees hold the same package versions.
func checkSameVersions(t *testing.T, plan *repo.Plan, ref string) {
	t.Helper()
	out, err := exec.Command("dpkg-query", "--admindir="+filepath.Join(ref, "var/lib/dpkg"), "-W", "-f=${Package} ${Version}\n").Output()
	if err != nil {
		t.Fatalf("dpkg-query on mmdebstrap's tree: %v", err)
	}
	want := strings.Fields(string(out))
	var got []string
	for _, p := range plan.Packages {
		got = append(got, p.Name, p.Version)
	}
	if strings.Join(want, " ") != strings.Join(got, " ") {
		t.Fatalf("mmdebstrap installed other versions:\nmmdebstrap: %v\nrootfsd:    %v", want, got)
	}
}

// checkDpkgList runs the host's dpkg -l on the assembled tree.
func checkDpkgList(t *testing.T, plan *repo.Plan, root string) {
	t.Helper()
	out, err := exec.Command("dpkg", "--root="+root, "--admindir="+filepath.Join(root, "var/lib/dpkg"), "-l").CombinedOutput()
	if err != nil {
		t.Fatalf("dpkg -l: %v\n%s", err, out)
	}
	listed := map[string]string{}
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		if len(f) >= 3 && f[0] == "ii" {
			listed[strings.Split(f[1], ":")[0]] = f[2]
		}
	}
	for _, p := range plan.Packages {
		if listed[p.Name] != p.Version {
			t.Errorf("dpkg -l: %s is %q, want ii %s", p.Name, listed[p.Name], p.Version)
		}
	}
}
