package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/rootfsd/rootfsd/repo"
	"github.com/rootfsd/rootfsd/store/remote/registrytest"
)

// TestBuildMultiArch builds debian:12 for amd64 and arm64 from a fixture
// archive into an OCI layout: the layout holds an image index of both
// images with their platforms, each config names its architecture and
// each layer holds that architecture's packages. The locks written per
// architecture build the same index again; the index pushed to a registry
// has the same digest; skopeo reads it all.
func TestBuildMultiArch(t *testing.T) {
	g, srv := multiArchArchive(t)
	dir := t.TempDir()
	cache := []string{"--cache-dir", filepath.Join(dir, "cache")}
	build := func(args ...string) string {
		t.Helper()
		out, stderr, code := runCLI(t, append(append(append([]string{}, g...), cache...), append([]string{"build"}, args...)...)...)
		if code != 0 {
			t.Fatalf("build %s: exit %d: %s", strings.Join(args, " "), code, stderr)
		}
		return out
	}
	layout := filepath.Join(dir, "oci")
	out := build("--distro", "debian:12", "--variant", "custom", "--pkgs", "hello", "--arch", "amd64,arm64",
		"--output", "oci:"+layout, "--output", "tar:"+filepath.Join(dir, "rootfs-{arch}.tar"), "--write-lock", filepath.Join(dir, "rootfs.lock"))
	for _, want := range []string{"built debian:12 amd64: 3 packages", "built debian:12 arm64: 3 packages", "wrote oci:" + layout, "image index sha256:"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	digest, got := readIndexLayout(t, layout, "latest")
	want := []platformSummary{
		{"linux/amd64", "linux/amd64", "#!/bin/sh\necho hello from amd64", "libc for amd64", true},
		{"linux/arm64", "linux/arm64", "#!/bin/sh\necho hello from arm64", "libc for arm64", true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("index (-want +got):\n%s", diff)
	}
	if !strings.Contains(out, "image index "+digest) {
		t.Errorf("printed index digest is not the layout's %s:\n%s", digest, out)
	}
	// The "Architecture: all" package is one file for both builds: fetched once.
	if n := srv.Hits()["pool/main/h/hello-data/hello-data_1.0-1_all.deb"]; n != 1 {
		t.Errorf("hello-data_all.deb downloaded %d times, want once", n)
	}
	// Per-architecture outputs and locks.
	for _, arch := range []string{"amd64", "arm64"} {
		if _, err := os.Stat(filepath.Join(dir, "rootfs-"+arch+".tar")); err != nil {
			t.Error(err)
		}
		l, err := repo.ReadLock(filepath.Join(dir, "rootfs."+arch+".lock"))
		if err != nil {
			t.Fatal(err)
		}
		if l.Arch != arch || l.Request.Arch != arch {
			t.Errorf("rootfs.%s.lock: arch %s, request arch %s", arch, l.Arch, l.Request.Arch)
		}
	}

	// From the locks: the same index, here as an archive.
	archive := filepath.Join(dir, "image.tar")
	out = build("--lock", filepath.Join(dir, "rootfs.amd64.lock"), "--lock", filepath.Join(dir, "rootfs.arm64.lock"), "--output", "oci-archive:"+archive)
	if !strings.Contains(out, "image index "+digest) {
		t.Errorf("build from the locks gave another index than %s:\n%s", digest, out)
	}

	// Pushed: the registry holds the same index.
	reg := registrytest.Start(t)
	ref := reg.Host + "/rootfsd/multi:1"
	out = build("--plain-http", "--lock", filepath.Join(dir, "rootfs.amd64.lock"), "--lock", filepath.Join(dir, "rootfs.arm64.lock"), "--output", "docker://"+ref)
	if !strings.Contains(out, "image index "+digest) {
		t.Errorf("push gave another index than %s:\n%s", digest, out)
	}

	skopeo, err := exec.LookPath("skopeo")
	if err != nil {
		t.Skipf("SKIP: skopeo is not installed: the layout and the registry are not read back with it (apt-get install skopeo)")
	}
	for _, src := range []string{"oci:" + layout + ":latest", "oci-archive:" + archive + ":latest", "docker://" + ref} {
		raw, err := exec.Command(skopeo, "inspect", "--tls-verify=false", "--raw", src).Output()
		if err != nil {
			t.Fatalf("skopeo inspect --raw %s: %v", src, err)
		}
		if sum := sha256.Sum256(raw); "sha256:"+hex.EncodeToString(sum[:]) != digest {
			t.Errorf("skopeo reads another index from %s:\n%s", src, raw)
		}
		cfg, err := exec.Command(skopeo, "--override-arch", "arm64", "inspect", "--tls-verify=false", "--config", src).Output()
		if err != nil {
			t.Fatalf("skopeo --override-arch arm64 inspect --config %s: %v", src, err)
		}
		var c v1.Image
		if json.Unmarshal(cfg, &c); c.Architecture != "arm64" {
			t.Errorf("%s: skopeo picks %s for arm64", src, c.Architecture)
		}
	}
}

// TestBuildMultiArchRefused: what cannot hold several architectures, or
// would need another machine, fails before anything is built.
func TestBuildMultiArchRefused(t *testing.T) {
	g, _ := multiArchArchive(t)
	dir := t.TempDir()
	foreign := "arm64"
	if runtime.GOARCH == "arm64" {
		foreign = "amd64"
	}
	base := append(append([]string{}, g...), "--cache-dir", filepath.Join(dir, "cache"), "build", "--distro", "debian:12", "--variant", "custom", "--pkgs", "hello")
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"docker-archive", []string{"--arch", "amd64,arm64", "--output", "docker-archive:" + filepath.Join(dir, "d.tar")}, "a docker archive holds no image index"},
		{"tar without {arch}", []string{"--arch", "amd64,arm64", "--output", "tar:" + filepath.Join(dir, "r.tar")}, "put {arch} in the name"},
		{"scripts, foreign", []string{"--arch", foreign, "--scripts", "--output", "tar:" + filepath.Join(dir, "s.tar")}, "emulates no other architecture"},
		{"scripts, several", []string{"--arch", "amd64,arm64", "--scripts", "--output", "oci:" + filepath.Join(dir, "s")}, "emulates no other architecture"},
		{"repeated arch", []string{"--arch", "amd64,amd64", "--output", "oci:" + filepath.Join(dir, "x")}, "distinct architectures"},
		{"locks and arches", []string{"--arch", "amd64,arm64", "--lock", "x.lock", "--output", "oci:" + filepath.Join(dir, "x")}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := runCLI(t, append(append([]string{}, base...), tc.args...)...)
			if code == 0 || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want a failure saying %q", code, stderr, tc.want)
			}
		})
	}
	// Nothing was written.
	for _, p := range []string{"d.tar", "r.tar", "s.tar", "s", "x"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err == nil {
			t.Errorf("%s was written by a refused build", p)
		}
	}
}

// TestSpecMultiArch: a spec with two architectures and an output without
// {arch} builds an image index, writes one lock per architecture beside
// the spec, and builds the same index from those locks.
func TestSpecMultiArch(t *testing.T) {
	g, _ := multiArchArchive(t)
	dir := t.TempDir()
	specFile := filepath.Join(dir, "rootfs.yaml")
	os.WriteFile(specFile, []byte("distro: debian:12\narchitectures: [amd64, arm64]\nvariant: custom\npackages: [hello]\noutputs: [\"oci:img\", \"tar:rootfs-{arch}.tar\"]\n"), 0o644)
	args := append(append([]string{}, g...), "--cache-dir", filepath.Join(dir, "cache"), "build", "-f", specFile)
	var digests []string
	for i := range 2 {
		out, stderr, code := runCLI(t, args...)
		if code != 0 {
			t.Fatalf("build -f (run %d): exit %d: %s", i+1, code, stderr)
		}
		wroteLocks := strings.Contains(stderr, "wrote "+filepath.Join(dir, "rootfs.arm64.lock"))
		if wroteLocks != (i == 0) {
			t.Errorf("run %d: locks written: %v\n%s", i+1, wroteLocks, stderr)
		}
		d, got := readIndexLayout(t, filepath.Join(dir, "img"), "latest")
		if len(got) != 2 || got[0].Platform != "linux/amd64" || got[1].Platform != "linux/arm64" || !strings.Contains(out, "image index "+d) {
			t.Errorf("run %d: index %s: %+v\n%s", i+1, d, got, out)
		}
		digests = append(digests, d)
	}
	if digests[0] != digests[1] {
		t.Errorf("the build from the locks gave index %s, the first %s", digests[1], digests[0])
	}
	for _, f := range []string{"rootfs.amd64.lock", "rootfs.arm64.lock", "rootfs-amd64.tar", "rootfs-arm64.tar"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
}

// TestAlpineMultiArchMissingIndex: the Alpine fixtures hold x86_64 only;
// asking for aarch64 too fails naming the index that is not there.
func TestAlpineMultiArchMissingIndex(t *testing.T) {
	srv := newAPKServer(t)
	dir := t.TempDir()
	_, stderr, code := runCLI(t, "--daemon", "never", "--cache-dir", filepath.Join(dir, "cache"), "build", "--distro", "alpine:3.19", "--repository", srv.Repo(),
		"--variant", "custom", "--pkgs", "busybox", "--arch", "amd64,arm64", "--output", "oci:"+filepath.Join(dir, "oci"))
	if code == 0 || !strings.Contains(stderr, "aarch64: apk: index of") || !strings.Contains(stderr, "/aarch64/APKINDEX.tar.gz") {
		t.Errorf("exit %d: %s", code, stderr)
	}
}

// TestMultiArchTag: --tag without {arch} commits the image of this
// machine's architecture into containers-storage (what podman pull of an
// index gives), says so, and podman sees that image under the name.
func TestMultiArchTag(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("SKIP: committing into a private containers-storage needs root here (the rootless path is tested by the unprivileged tests)")
	}
	host := map[string]string{"amd64": "amd64", "arm64": "arm64"}[runtime.GOARCH]
	if host == "" {
		t.Skipf("SKIP: the fixture archive has amd64 and arm64, this machine is %s", runtime.GOARCH)
	}
	g, _ := multiArchArchive(t)
	dir := t.TempDir()
	graph, run := filepath.Join(dir, "graph"), filepath.Join(dir, "run")
	conf := filepath.Join(dir, "storage.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf("[storage]\ndriver = \"vfs\"\ngraphroot = %q\nrunroot = %q\n", graph, run)), 0o644)
	t.Cleanup(func() { unmountBelow(t, graph, run) })
	cmd := exec.Command(os.Args[0], append(append([]string{}, g...), "--cache-dir", filepath.Join(dir, "cache"), "--format", "json", "build", "--distro", "debian:12",
		"--variant", "custom", "--pkgs", "hello", "--arch", "amd64,arm64", "--output", "oci:"+filepath.Join(dir, "oci"), "--tag", "localhost/multi:1")...)
	cmd.Env = append(os.Environ(), "ROOTFSD_TEST_MAIN=1", "ROOTFSD_DAEMON=never", "CONTAINERS_STORAGE_CONF="+conf)
	var errb strings.Builder
	cmd.Stderr = &errb
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("build: %v\n%s", err, errb.String())
	}
	var res struct {
		Outputs   []string
		Warnings  []string
		Platforms []struct {
			ImageID string
			Lock    struct{ Arch string }
		}
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var hostID string
	for _, p := range res.Platforms {
		if p.Lock.Arch == host {
			hostID = p.ImageID
		}
	}
	if hostID == "" || !strings.Contains(strings.Join(res.Warnings, "\n"), "committed the "+host+" image (this machine's architecture)") ||
		!strings.Contains(strings.Join(res.Outputs, " "), "containers-storage") {
		t.Fatalf("result: %+v", res)
	}
	podman, err := exec.LookPath("podman")
	if err != nil {
		t.Skip("SKIP: podman is not installed: the committed image is not read back (apt-get install podman)")
	}
	info, err := exec.Command(podman, "--root", graph, "--runroot", run, "--storage-driver", "vfs", "image", "inspect", "--format", "{{.Id}} {{.Architecture}}", "localhost/multi:1").CombinedOutput()
	if err != nil {
		t.Fatalf("podman image inspect: %v\n%s", err, info)
	}
	if got, want := strings.TrimSpace(string(info)), strings.TrimPrefix(hostID, "sha256:")+" "+host; got != want {
		t.Errorf("podman sees %q, want %q", got, want)
	}

	// --tag NAME-{arch}: every architecture under its own name.
	cmd = exec.Command(os.Args[0], append(append([]string{}, g...), "--cache-dir", filepath.Join(dir, "cache"), "build", "--distro", "debian:12",
		"--variant", "custom", "--pkgs", "hello", "--arch", "amd64,arm64", "--tag", "localhost/multi:{arch}")...)
	cmd.Env = append(os.Environ(), "ROOTFSD_TEST_MAIN=1", "ROOTFSD_DAEMON=never", "CONTAINERS_STORAGE_CONF="+conf)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build --tag localhost/multi:{arch}: %v\n%s", err, out)
	}
	for _, arch := range []string{"amd64", "arm64"} {
		info, err := exec.Command(podman, "--root", graph, "--runroot", run, "--storage-driver", "vfs", "image", "inspect", "--format", "{{.Architecture}}", "localhost/multi:"+arch).CombinedOutput()
		if err != nil || strings.TrimSpace(string(info)) != arch {
			t.Errorf("localhost/multi:%s: %v %s", arch, err, info)
		}
	}
}

// TestDaemonMultiArch: the daemon builds several architectures (the API
// carries the platforms) and writes the same index as a build in-process.
func TestDaemonMultiArch(t *testing.T) {
	g, _ := multiArchArchive(t)
	g = g[:len(g)-2] // without --daemon never
	sock := filepath.Join(socketDir(t), "d.sock")
	cache := t.TempDir()
	logs, _ := startDaemon(t, sock, cache)
	dir := t.TempDir()
	var digests []string
	for _, mode := range []string{"always", "never"} {
		layout := filepath.Join(dir, "oci-"+mode)
		args := append(append([]string{}, g...), "--socket", sock, "--cache-dir", cache, "--daemon", mode, "build", "--distro", "debian:12",
			"--variant", "custom", "--pkgs", "hello", "--arch", "amd64,arm64", "--output", "oci:"+layout)
		out, stderr, code := runCLI(t, args...)
		if code != 0 {
			t.Fatalf("--daemon %s: exit %d: %s\n%s", mode, code, stderr, logs.String())
		}
		d, got := readIndexLayout(t, layout, "latest")
		if len(got) != 2 || got[1].Hello != "#!/bin/sh\necho hello from arm64" || !strings.Contains(out, "built debian:12 arm64: 3 packages") {
			t.Errorf("--daemon %s: %+v\n%s", mode, got, out)
		}
		digests = append(digests, d)
	}
	if digests[0] != digests[1] {
		t.Errorf("the daemon's index %s differs from the in-process one %s", digests[0], digests[1])
	}
	if !strings.Contains(logs.String(), "arm64") {
		t.Errorf("the daemon did not build (its log does not mention arm64):\n%s", logs.String())
	}
}

// TestMultiArchMirrorWithoutArch: an archive that does not carry one of
// the architectures (as Ubuntu's main archive carries no arm64) fails
// naming that architecture and what the Release lacks.
func TestMultiArchMirrorWithoutArch(t *testing.T) {
	g, _, _ := debCacheArchive(t) // amd64 only
	dir := t.TempDir()
	_, stderr, code := runCLI(t, append(append([]string{}, g...), "--daemon", "never", "--cache-dir", filepath.Join(dir, "cache"), "build", "--distro", "debian:12",
		"--variant", "custom", "--pkgs", "hello", "--arch", "amd64,arm64", "--output", "oci:"+filepath.Join(dir, "oci"))...)
	if code == 0 || !strings.Contains(stderr, "arm64: ") || !strings.Contains(stderr, "binary-arm64") {
		t.Errorf("exit %d: %s", code, stderr)
	}
	t.Logf("%s", strings.TrimSpace(stderr))
}

// TestLockMultiArch: lock --arch a,b writes one lock per architecture,
// named with it; resolve takes one architecture.
func TestLockMultiArch(t *testing.T) {
	g, _ := multiArchArchive(t)
	dir := t.TempDir()
	base := append(append([]string{}, g...), "--cache-dir", filepath.Join(dir, "cache"))
	_, stderr, code := runCLI(t, append(base, "lock", "--distro", "debian:12", "--variant", "custom", "--pkgs", "hello", "--arch", "amd64,arm64", "-o", filepath.Join(dir, "hello.lock"))...)
	if code != 0 {
		t.Fatalf("lock: exit %d: %s", code, stderr)
	}
	var got []string
	for _, arch := range []string{"amd64", "arm64"} {
		l, err := repo.ReadLock(filepath.Join(dir, "hello."+arch+".lock"))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range l.Packages {
			got = append(got, l.Arch+" "+p.Name+" "+p.Arch)
		}
	}
	want := []string{"amd64 hello amd64", "amd64 hello-data all", "amd64 libc6 amd64", "arm64 hello arm64", "arm64 hello-data all", "arm64 libc6 arm64"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("locks (-want +got):\n%s", diff)
	}
	if _, err := os.Stat(filepath.Join(dir, "hello.lock")); err == nil {
		t.Error("hello.lock written besides the per-architecture locks")
	}
	_, stderr, code = runCLI(t, append(base, "resolve", "--distro", "debian:12", "--pkgs", "hello", "--arch", "amd64,arm64")...)
	if code != exitUsage || !strings.Contains(stderr, "takes one architecture") {
		t.Errorf("resolve --arch amd64,arm64: exit %d: %s", code, stderr)
	}
}
