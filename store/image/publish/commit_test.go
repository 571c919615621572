package publish

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"go.podman.io/storage"
)

func TestMain(m *testing.M) {
	if InitReexec() {
		return
	}
	if os.Getenv(childEnv) != "" {
		os.Exit(rootlessChild())
	}
	os.Exit(m.Run())
}

func TestStorageName(t *testing.T) {
	tests := map[string]string{
		"ca":                      "localhost/ca:latest",
		"ca:24.04":                "localhost/ca:24.04",
		"rootfsd/ca:1":            "localhost/rootfsd/ca:1",
		"localhost/ca:24.04":      "localhost/ca:24.04",
		"quay.io/org/ca":          "quay.io/org/ca:latest",
		"127.0.0.1:5000/ca:x":     "127.0.0.1:5000/ca:x",
		"registry.local:5000/a/b": "registry.local:5000/a/b:latest",
	}
	for in, want := range tests {
		got, err := StorageName(in)
		if err != nil || got != want {
			t.Errorf("StorageName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "UPPER", "a@sha256:00", "a b"} {
		if _, err := StorageName(bad); err == nil {
			t.Errorf("StorageName(%q) accepted", bad)
		}
	}
}

// privateStore returns commit options for a store of its own below a
// temporary directory, so tests do not touch the host's images.
func privateStore(t *testing.T) CommitOptions {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("SKIP: containers-storage commit tests run as root (the rootless path is TestCommitRootless)")
	}
	dir := t.TempDir()
	o := CommitOptions{GraphRoot: filepath.Join(dir, "root"), RunRoot: filepath.Join(dir, "run"), Driver: "overlay", WorkDir: dir}
	t.Cleanup(func() { cleanStore(t, o) })
	return o
}

// cleanStore removes what podman left in a private store (containers,
// images) and any mount below it, so that the temporary directory can go.
func cleanStore(t *testing.T, o CommitOptions) {
	if podman, err := lookPodman(); err == nil {
		exec.Command(podman, podmanArgs(o, "rm", "-a", "-f")...).Run()
		exec.Command(podman, podmanArgs(o, "rmi", "-a", "-f")...).Run()
	}
	data, _ := os.ReadFile("/proc/self/mountinfo")
	lines := strings.Split(string(data), "\n")
	for i := len(lines) - 1; i >= 0; i-- { // innermost first
		if f := strings.Fields(lines[i]); len(f) > 4 && strings.HasPrefix(f[4], o.WorkDir+"/") {
			if err := syscall.Unmount(f[4], syscall.MNT_DETACH); err != nil {
				t.Logf("unmount %s: %v", f[4], err)
			}
		}
	}
}

func openTestStore(t *testing.T, o CommitOptions) storage.Store {
	t.Helper()
	st, err := openStore(o)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// podmanArgs points podman at a private store.
func podmanArgs(o CommitOptions, args ...string) []string {
	return append([]string{"--root", o.GraphRoot, "--runroot", o.RunRoot, "--storage-driver", o.Driver,
		"--cgroup-manager", "cgroupfs", "--events-backend", "none"}, args...)
}

// TestCommit commits the sample layer with a static binary, checks that
// the store holds our image ID and an exact copy of the layer, that the
// files keep owners and setuid bits, that podman lists and runs it, and
// that a second commit is a no-op with the same digests.
func TestCommit(t *testing.T) {
	opts := privateStore(t)
	ctx := context.Background()
	files := append(sampleFiles(), file{name: "hello", typ: tar.TypeReg, mode: 0o755, body: helloBinary(t)})
	path, diffID := writeLayer(t, filepath.Join(t.TempDir(), "layer.tar"), files)
	img := newImage(t, path, diffID, "/hello")

	res, err := Commit(ctx, img, "rootfsd-test:commit", opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Name != "localhost/rootfsd-test:commit" || "sha256:"+res.ID != img.ID() || res.Driver != "overlay" {
		t.Errorf("result %+v, image %s", res, img.ID())
	}
	again, err := Commit(ctx, img, "rootfsd-test:commit", opts)
	if err != nil {
		t.Fatal(err)
	}
	if *again != *res {
		t.Errorf("second commit %+v differs from the first %+v", again, res)
	}

	st := openTestStore(t, opts)
	defer st.Shutdown(false)
	si, err := st.Image(res.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(si.Names) != 1 || si.Names[0] != res.Name {
		t.Errorf("names %v", si.Names)
	}
	// The store reproduces the layer tar byte for byte (tar-split).
	rc, err := st.Diff("", si.TopLayer, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	_, err = io.Copy(h, rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != diffID {
		t.Errorf("stored layer diff hashes to %s, want %s", got, diffID)
	}
	checkOwners(t, filepath.Join(opts.GraphRoot, "overlay", si.TopLayer, "diff"))

	podman, err := lookPodman()
	if err != nil {
		t.Skip(err)
	}
	out := runCmd(t, podman, podmanArgs(opts, "images", "--no-trunc", "--format", "{{.Repository}}:{{.Tag}} {{.ID}} {{.Digest}}")...)
	if !strings.Contains(out, res.Name+" sha256:"+res.ID+" "+res.ManifestDigest) && !strings.Contains(out, res.Name+" "+res.ID+" "+res.ManifestDigest) {
		t.Errorf("podman images does not list %s %s %s:\n%s", res.Name, res.ID, res.ManifestDigest, out)
	}
	out = runCmd(t, podman, podmanArgs(opts, "run", "--rm", "--runtime", "runc", "--network", "none", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", res.Name)...)
	if !strings.Contains(out, "hello from a rootfsd image") {
		t.Errorf("podman run printed %q", out)
	}
	out = runCmd(t, podman, podmanArgs(opts, "run", "--rm", "--runtime", "runc", "--network", "none", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", "--entrypoint", "/hello", res.Name)...)
	if !strings.Contains(out, "hello") {
		t.Errorf("podman run --entrypoint printed %q", out)
	}
}

func lookPodman() (string, error) {
	p, err := lookPath("podman")
	if err != nil {
		return "", errors.New("SKIP: podman is not installed: the committed image was not listed or run with podman")
	}
	return p, nil
}

// checkOwners looks at the applied layer on disk.
func checkOwners(t *testing.T, root string) {
	t.Helper()
	for _, c := range []struct {
		path     string
		mode     os.FileMode
		uid, gid uint32
	}{
		{"bin/su", 0o755 | os.ModeSetuid, 0, 0},
		{"usr/bin/wall", 0o755 | os.ModeSetgid, 0, 5},
		{"etc/shadow", 0o640, 0, 42},
		{"home/user", 0o700 | os.ModeDir, 1000, 1000},
		{"tmp", 0o777 | os.ModeDir | os.ModeSticky, 0, 0},
		{"var/empty", 0o755 | os.ModeDir, 65534, 65534},
	} {
		fi, err := os.Lstat(filepath.Join(root, c.path))
		if err != nil {
			t.Errorf("%s: %v", c.path, err)
			continue
		}
		uid, gid := owner(fi)
		if fi.Mode() != c.mode || uid != c.uid || gid != c.gid {
			t.Errorf("%s: mode %v owner %d:%d, want %v %d:%d", c.path, fi.Mode(), uid, gid, c.mode, c.uid, c.gid)
		}
	}
}

// TestCommitFailure commits an image whose layer is not a valid tar under
// a name that already points at a good image: the commit fails, no image
// of the bad config exists, and the name still points at the good image.
func TestCommitFailure(t *testing.T) {
	opts := privateStore(t)
	ctx := context.Background()
	dir := t.TempDir()
	goodPath, goodID := writeLayer(t, filepath.Join(dir, "good.tar"), sampleFiles())
	good, err := Commit(ctx, newImage(t, goodPath, goodID), "rootfsd-test:fail", opts)
	if err != nil {
		t.Fatal(err)
	}
	// A tar cut off in the middle of a file.
	full, badID := writeLayer(t, filepath.Join(dir, "full.tar"), append(sampleFiles(), file{name: "big", typ: tar.TypeReg, mode: 0o644, body: make([]byte, 64<<10)}))
	data, _ := os.ReadFile(full)
	badPath := filepath.Join(dir, "bad.tar")
	os.WriteFile(badPath, data[:len(data)-40<<10], 0o644)
	_ = badID
	bad := newImage(t, badPath, "")
	_, err = Commit(ctx, bad, "rootfsd-test:fail", opts)
	if err == nil {
		t.Fatal("commit of a truncated layer succeeded")
	}
	t.Logf("commit of a truncated layer: %v", err)
	st := openTestStore(t, opts)
	defer st.Shutdown(false)
	if _, err := st.Image(strings.TrimPrefix(bad.ID(), "sha256:")); err == nil {
		t.Error("the failed commit left an image")
	}
	si, err := st.Image("localhost/rootfsd-test:fail")
	if err != nil || si.ID != good.ID {
		t.Errorf("name now points at %v (%v), want %s", si, err, good.ID)
	}
	images, err := st.Images()
	if err != nil || len(images) != 1 {
		t.Errorf("%d images in the store after the failure, want 1 (%v)", len(images), err)
	}
	layers, err := st.Layers()
	if err != nil || len(layers) != 1 {
		t.Errorf("%d layers in the store after the failure, want 1 (%v)", len(layers), err)
	}
}

func TestCommitUnprivileged(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("SKIP: runs as root; the unprivileged refusal is checked by TestCommitRootless")
	}
	path, diffID := writeLayer(t, filepath.Join(t.TempDir(), "l.tar"), sampleFiles())
	if _, err := Commit(context.Background(), newImage(t, path, diffID), "x", CommitOptions{}); !errors.Is(err, ErrNeedsUserNamespace) {
		t.Errorf("unprivileged commit: %v", err)
	}
}

// TestCommitSystemStorage commits to the store podman uses by default
// (storage.conf and defaults, /var/lib/containers/storage for root) and
// checks that plain `podman images` and `podman run` see the image, then
// removes it. It touches the host's image store, so it runs only with
// ROOTFSD_TEST_SYSTEM_STORAGE=1.
func TestCommitSystemStorage(t *testing.T) {
	if os.Getenv("ROOTFSD_TEST_SYSTEM_STORAGE") != "1" {
		t.Skip("SKIP: set ROOTFSD_TEST_SYSTEM_STORAGE=1 to commit to the host's default containers-storage")
	}
	if os.Geteuid() != 0 {
		t.Skip("SKIP: as an unprivileged user this is TestCommitRootless")
	}
	podman, err := lookPodman()
	if err != nil {
		t.Skip(err)
	}
	ctx := context.Background()
	files := append(sampleFiles(), file{name: "hello", typ: tar.TypeReg, mode: 0o755, body: helloBinary(t)})
	path, diffID := writeLayer(t, filepath.Join(t.TempDir(), "layer.tar"), files)
	img := newImage(t, path, diffID, "/hello")
	res, err := Commit(ctx, img, "rootfsd-system-test:1", CommitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { exec.Command(podman, "rmi", "-f", res.Name).Run() })
	t.Logf("committed %s to %s (%s)", res.Name, res.GraphRoot, res.Driver)
	out := runCmd(t, podman, "images", "--no-trunc", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}")
	if !strings.Contains(out, res.Name) || !strings.Contains(out, res.ID) {
		t.Errorf("podman images does not list %s %s:\n%s", res.Name, res.ID, out)
	}
	out = runCmd(t, podman, "run", "--rm", "--runtime", "runc", "--network", "none", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", res.Name)
	if !strings.Contains(out, "hello from a rootfsd image") {
		t.Errorf("podman run printed %q", out)
	}
	if buildah, err := lookPath("buildah"); err == nil {
		if out := runCmd(t, buildah, "images", "--no-trunc"); !strings.Contains(out, res.ID) {
			t.Errorf("buildah does not see image %s:\n%s", res.ID, out)
		}
	}
	if skopeo, err := lookPath("skopeo"); err == nil {
		if out := runCmd(t, skopeo, "inspect", "containers-storage:"+res.Name); !strings.Contains(out, res.ManifestDigest) {
			t.Errorf("skopeo does not see manifest %s:\n%s", res.ManifestDigest, out)
		}
	}
}
