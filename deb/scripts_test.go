package deb

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/rootfsd/rootfsd/deb/internal/debtest"
	"github.com/rootfsd/rootfsd/repo/fstree"
)

// shellPackage is a package with the host's dash and C library, so that
// maintainer scripts can run in the sandbox.
func shellPackage(t *testing.T) debtest.Deb {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("needs an amd64 Linux host")
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("no unshare(1) on the host")
	}
	if out, err := exec.Command("unshare", "--user", "--map-root-user", "--mount", "--net", "--pid", "--fork", "true").CombinedOutput(); err != nil {
		t.Skipf("user namespaces are not available here: %v %s", err, out)
	}
	const lib = "/usr/lib/x86_64-linux-gnu/"
	return debtest.Deb{Package: "libc-and-shell", Data: append(asmDirs("usr/bin", "usr/lib/x86_64-linux-gnu", "usr/lib64", "etc", "tmp", "var/lib"),
		asmLink("./bin", "usr/bin"), asmLink("./lib", "usr/lib"), asmLink("./lib64", "usr/lib64"),
		asmMode("./usr/bin/dash", hostFile(t, "/usr/bin/dash"), 0o755), asmLink("./usr/bin/sh", "dash"),
		asmMode("./usr/lib/x86_64-linux-gnu/libc.so.6", hostFile(t, lib+"libc.so.6"), 0o755),
		asmMode("./usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", hostFile(t, lib+"ld-linux-x86-64.so.2"), 0o755),
		asmLink("./usr/lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"),
		asmFile("./etc/app.conf", "shipped\n"))}
}

const sandboxScript = `#!/bin/sh
set -e
echo "configured by $DPKG_MAINTSCRIPT_PACKAGE with $1" > /etc/from-postinst
echo "appended" >> /etc/app.conf
echo discarded > /dev/null
: > /var/lib/marker
`

func TestScriptsSandbox(t *testing.T) {
	shell := shellPackage(t)
	app := debtest.Deb{Package: "app", ControlFiles: map[string]string{
		"postinst": sandboxScript,
		"preinst":  "#!/bin/sh\necho \"$1\" > /tmp/preinst-ran\n",
	}}
	// Without --scripts: uncovered.
	_, res := mustAssemble(t, AssembleOptions{}, shell, app)
	if strings.Join(res.Uncovered, ",") != "app=1.0" {
		t.Fatalf("uncovered = %v", res.Uncovered)
	}
	// With --scripts: run in the sandbox, the changes come back.
	tr, res := mustAssemble(t, AssembleOptions{Scripts: true}, shell, app)
	if len(res.Uncovered) > 0 || strings.Join(res.Ran, ",") != "app=1.0" {
		t.Fatalf("uncovered %v, ran %v", res.Uncovered, res.Ran)
	}
	for p, want := range map[string]string{
		"etc/from-postinst": "configured by app with configure\n",
		"etc/app.conf":      "shipped\nappended\n",
		"tmp/preinst-ran":   "install\n",
		"var/lib/marker":    "",
	} {
		if got := readTree(t, tr, p); got != want {
			t.Errorf("%s = %q, want %q", p, got, want)
		}
		if i := lookup(t, tr, p); i.UID != 0 || i.GID != 0 {
			t.Errorf("%s owned by %d:%d", p, i.UID, i.GID)
		}
	}
	// The sandbox's mount points and devices are not left in the tree.
	for _, p := range []string{"dev/null", "proc"} {
		if _, err := tr.Lookup(p); err == nil {
			t.Errorf("%s left in the tree", p)
		}
	}
	// The package's own files keep their owner tag, new files have none.
	if i := lookup(t, tr, "etc/app.conf"); i.Owner != "libc-and-shell" {
		t.Errorf("etc/app.conf owner tag %q", i.Owner)
	}

	// A failing script fails the build, with its output.
	bad := debtest.Deb{Package: "bad", ControlFiles: map[string]string{"postinst": "#!/bin/sh\necho broken >&2\nexit 3\n"}}
	if _, _, err := assemble(t, AssembleOptions{Scripts: true}, shell, bad); err == nil || !strings.Contains(err.Error(), "broken") {
		t.Errorf("failing script: %v", err)
	}
}

// TestSandboxRootless runs a script the way an unprivileged build does:
// in a user namespace that maps only the caller.
func TestSandboxRootless(t *testing.T) {
	shell := shellPackage(t)
	tr, _ := mustAssemble(t, AssembleOptions{}, shell)
	root := filepath.Join(t.TempDir(), "root")
	if err := tr.WriteDir(root, fstreeDirOptions(true)); err != nil {
		t.Fatal(err)
	}
	if _, err := prepareSandbox(root); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(root, "var/lib/dpkg/info/x.postinst")
	os.WriteFile(script, []byte("#!/bin/sh\necho \"$1 $DPKG_MAINTSCRIPT_NAME\" > /etc/rootless\n"), 0o755)
	unshare, _ := exec.LookPath("unshare")
	p := &instPkg{name: "x", infoName: "x", arch: "amd64"}
	if out, err := runSandboxed(context.Background(), unshare, root, true, p, "postinst", "configure"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if b, err := os.ReadFile(filepath.Join(root, "etc/rootless")); err != nil || string(b) != "configure postinst\n" {
		t.Errorf("etc/rootless = %q, %v", b, err)
	}
}

func fstreeDirOptions(ignoreOwnership bool) fstree.DirOptions {
	return fstree.DirOptions{IgnoreOwnership: ignoreOwnership, SkipDevices: true}
}
