//go:build mirror

package deb_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rootfsd/rootfsd/deb"
	"github.com/rootfsd/rootfsd/repo"
	"github.com/rootfsd/rootfsd/repo/fstree"
)

// TestMirrorAssembleCACertificates is the default build of
// "rootfsd build --distro ubuntu:24.04 --pkgs ca-certificates": the base
// variant, trim docs. It checks what the image must show: accounts, /tmp,
// the bundle update-ca-certificates makes, dpkg's view, and openssl from
// the tree reading a certificate of the bundle in a chroot.
func TestMirrorAssembleCACertificates(t *testing.T) {
	plan, open, _ := fetched(t, repo.Request{Distro: "ubuntu:24.04", Arch: "amd64", Packages: []string{"ca-certificates"}})
	work := t.TempDir()
	tree := fstree.New(fstree.Options{TempDir: work})
	defer tree.Close()
	start := time.Now()
	res, err := deb.Assemble(context.Background(), tree, plan, open, deb.AssembleOptions{Epoch: time.Unix(1700000000, 0)})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d packages assembled in %v; warnings %q; uncovered %q", len(plan.Packages), time.Since(start).Round(time.Millisecond), res.Warnings, res.Uncovered)
	if len(res.Uncovered) > 0 {
		t.Errorf("uncovered: %v", res.Uncovered)
	}
	passwd, _ := tree.ReadFile("etc/passwd")
	group, _ := tree.ReadFile("etc/group")
	for _, want := range []string{"root:", "nobody:"} {
		if !bytes.Contains(passwd, []byte("\n"+want)) && !bytes.HasPrefix(passwd, []byte(want)) {
			t.Errorf("/etc/passwd lacks %s", want)
		}
	}
	if !bytes.HasPrefix(group, []byte("root:")) || !bytes.Contains(group, []byte("\nnogroup:")) {
		t.Errorf("/etc/group:\n%s", group)
	}
	if i, err := tree.Lookup("tmp"); err != nil || i.Kind != fstree.KindDir || i.Mode != 0o1777 {
		t.Errorf("/tmp: %+v %v", i, err)
	}
	if i, err := tree.Lookup("var/log/wtmp"); err != nil || i.GID != 43 || i.Mode != 0o664 {
		t.Errorf("/var/log/wtmp (base-files' postinst): %+v %v", i, err)
	}
	if _, err := tree.Lookup("usr/share/man/man1/openssl.1ssl.gz"); err == nil {
		t.Error("trim docs kept a man page")
	}
	// The same plan and options give the same bytes.
	var first, second bytes.Buffer
	if err := tree.WriteTar(&first, fstree.TarOptions{Epoch: time.Unix(1700000000, 0)}); err != nil {
		t.Fatal(err)
	}
	again := fstree.New(fstree.Options{TempDir: work})
	defer again.Close()
	if _, err := deb.Assemble(context.Background(), again, plan, open, deb.AssembleOptions{Epoch: time.Unix(1700000000, 0)}); err != nil {
		t.Fatal(err)
	}
	again.WriteTar(&second, fstree.TarOptions{Epoch: time.Unix(1700000000, 0)})
	if !bytes.Equal(first.Bytes(), second.Bytes()) {
		t.Error("two assemblies of the same plan differ")
	}
	root := filepath.Join(work, "root")
	if err := tree.WriteDir(root, fstree.DirOptions{IgnoreOwnership: os.Geteuid() != 0}); err != nil {
		t.Fatal(err)
	}
	checkDpkgList(t, plan, root)
	// The bundle is what the host's update-ca-certificates makes of the
	// same certificates and configuration.
	if _, err := exec.LookPath("update-ca-certificates"); err == nil {
		etc := filepath.Join(work, "certs")
		os.MkdirAll(etc, 0o755)
		out, err := exec.Command("update-ca-certificates", "--certsconf", filepath.Join(root, "etc/ca-certificates.conf"),
			"--certsdir", filepath.Join(root, "usr/share/ca-certificates"), "--localcertsdir", filepath.Join(root, "usr/local/share/ca-certificates"),
			"--etccertsdir", etc, "--hooksdir", filepath.Join(etc, "none")).CombinedOutput()
		if err != nil {
			t.Fatalf("update-ca-certificates: %v\n%s", err, out)
		}
		want, _ := os.ReadFile(filepath.Join(etc, "ca-certificates.crt"))
		got, _ := os.ReadFile(filepath.Join(root, "etc/ssl/certs/ca-certificates.crt"))
		if len(want) == 0 || !bytes.Equal(got, want) {
			t.Errorf("ca-certificates.crt (%d bytes) differs from update-ca-certificates' (%d bytes)", len(got), len(want))
		}
	}
	if os.Geteuid() != 0 {
		t.Skip("SKIPPING the chroot check: needs root")
	}
	// openssl from the tree, in a chroot, reads the first certificate of
	// the bundle and verifies a root through the hash links.
	out, err := exec.Command("chroot", root, "/usr/bin/openssl", "x509", "-in", "/etc/ssl/certs/ca-certificates.crt", "-noout", "-subject", "-fingerprint").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "subject=") {
		t.Fatalf("openssl x509 in the chroot: %v\n%s", err, out)
	}
	t.Logf("openssl in the chroot: %s", strings.TrimSpace(string(out)))
	out, err = exec.Command("chroot", root, "/usr/bin/openssl", "verify", "-CApath", "/etc/ssl/certs", "/etc/ssl/certs/ISRG_Root_X1.pem").CombinedOutput()
	if err != nil || !strings.Contains(string(out), ": OK") {
		t.Errorf("openssl verify in the chroot: %v\n%s", err, out)
	}
}
