package deb

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rootfsd/rootfsd/repo/fstree"
)

// dpkgList is what dpkg would write to info/<pkg>.list for a .deb: the
// names of its data.tar as GNU tar lists them, "./" turned into "/.".
func dpkgList(t *testing.T, deb string) []string {
	t.Helper()
	cmd := exec.Command("sh", "-c", `dpkg-deb --fsys-tarfile "$1" | tar -t --quoting-style=literal`, "sh", deb)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("dpkg-deb --fsys-tarfile %s | tar -t: %v", deb, err)
	}
	list := []string{"/."}
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if p := listPath(l); p != "/." {
			list = append(list, p)
		}
	}
	return list
}

// checkMD5Sums verifies every file md5sums names against the tree: an
// independent check that content went where dpkg would put it.
func checkMD5Sums(t *testing.T, tr *fstree.Tree, u *Unpacked) {
	t.Helper()
	for p, want := range u.MD5Sums {
		b, err := tr.ReadFile(p)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if sum := md5.Sum(b); hex.EncodeToString(sum[:]) != want {
			t.Errorf("%s: md5 %x, md5sums says %s", p, sum, want)
		}
	}
}

// TestUnpackDpkgDeb unpacks packages built by dpkg-deb itself, with every
// compression it offers, and compares with what dpkg-deb reads back.
func TestUnpackDpkgDeb(t *testing.T) {
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		t.Skip("no dpkg-deb")
	}
	src := t.TempDir()
	files := map[string]string{
		"DEBIAN/control":                "Package: hello\nVersion: 1.0\nArchitecture: all\nMaintainer: T <t@example.org>\nDescription: x\n",
		"DEBIAN/postinst":               "#!/bin/sh\nexit 0\n",
		"usr/bin/hello":                 "#!/bin/sh\necho hello\n",
		"usr/share/doc/hello/copyright": strings.Repeat("free as in freedom\n", 300),
		"etc/hello.conf":                "greeting=hi\n",
	}
	for p, body := range files {
		full := filepath.Join(src, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		mode := os.FileMode(0o644)
		if strings.Contains(p, "bin/") || strings.HasSuffix(p, "postinst") {
			mode = 0o755
		}
		if err := os.WriteFile(full, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
	}
	os.Symlink("hello", filepath.Join(src, "usr/bin/hi"))
	os.Link(filepath.Join(src, "usr/bin/hello"), filepath.Join(src, "usr/bin/hello2"))
	md5sums := exec.Command("sh", "-c", `cd "$1" && find usr etc -type f | sort | xargs md5sum > DEBIAN/md5sums`, "sh", src)
	if out, err := md5sums.CombinedOutput(); err != nil {
		t.Fatalf("md5sum: %v\n%s", err, out)
	}
	for _, z := range []string{"none", "gzip", "xz", "zstd"} {
		t.Run(z, func(t *testing.T) {
			deb := filepath.Join(t.TempDir(), "hello.deb")
			cmd := exec.Command("dpkg-deb", "--root-owner-group", "-Z"+z, "--build", src, deb)
			if out, err := cmd.CombinedOutput(); err != nil {
				if z == "zstd" && bytes.Contains(out, []byte("zstd")) {
					t.Skipf("this dpkg-deb cannot write zstd: %s", out)
				}
				t.Fatalf("dpkg-deb --build: %v\n%s", err, out)
			}
			f, err := os.Open(deb)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			tr := unpackTree(t)
			u, err := Unpack(context.Background(), f, "hello", tr, UnpackOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(dpkgList(t, deb), u.Paths); diff != "" {
				t.Errorf("Paths differ from dpkg-deb's listing (-dpkg +ours):\n%s", diff)
			}
			if string(u.Control["postinst"]) != files["DEBIAN/postinst"] || !bytes.HasPrefix(u.Control["control"], []byte("Package: hello\n")) {
				t.Errorf("control files: %q", u.Control)
			}
			if len(u.MD5Sums) != 4 {
				t.Errorf("md5sums has %d entries, want 4", len(u.MD5Sums))
			}
			checkMD5Sums(t, tr, u)
			if i, err := tr.Lookup("usr/bin/hi"); err != nil || i.Target != "hello" {
				t.Errorf("usr/bin/hi: %+v, %v", i, err)
			}
		})
	}
}

// TestUnpackRealDebs unpacks every .deb in $ROOTFSD_DEB_DIR (real
// packages, downloaded beforehand) into one tree, in name order, and checks
// each against dpkg-deb's listing and its own md5sums.
func TestUnpackRealDebs(t *testing.T) {
	dir := os.Getenv("ROOTFSD_DEB_DIR")
	if dir == "" {
		t.Skip("set ROOTFSD_DEB_DIR to a directory of .deb files")
	}
	debs, _ := filepath.Glob(filepath.Join(dir, "*.deb"))
	if len(debs) == 0 {
		t.Fatalf("no .deb files in %s", dir)
	}
	tr := unpackTree(t)
	haveDpkg := haveProgram("dpkg-deb")
	for _, deb := range debs {
		name, _, _ := strings.Cut(filepath.Base(deb), "_")
		f, err := os.Open(deb)
		if err != nil {
			t.Fatal(err)
		}
		u, err := Unpack(context.Background(), f, name, tr, UnpackOptions{Replace: func(string, string) error { return nil }})
		f.Close()
		if err != nil {
			t.Errorf("%s: %v", deb, err)
			continue
		}
		if haveDpkg {
			if diff := cmp.Diff(dpkgList(t, deb), u.Paths); diff != "" {
				t.Errorf("%s: Paths differ from dpkg-deb's listing (-dpkg +ours):\n%s", deb, diff)
			}
		}
		checkMD5Sums(t, tr, u)
		t.Logf("%s: %d paths, %d bytes", filepath.Base(deb), len(u.Paths), u.Size)
	}
}
