package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.podman.io/storage"
)

// crashEnv is the world a crash test runs rootfsd in: a cache, a private
// containers-storage (vfs, below a temporary directory, so the host's
// images are never touched) and the slow fixture mirror.
type crashEnv struct {
	srv      *apkServer
	cache    string
	graph    string
	run      string
	conf     string
	outDir   string
	pkgSets  []string
	children int
}

func newCrashEnv(t *testing.T, srv *apkServer) *crashEnv {
	t.Helper()
	dir := t.TempDir()
	e := &crashEnv{srv: srv, cache: filepath.Join(dir, "cache"), graph: filepath.Join(dir, "graph"),
		run: filepath.Join(dir, "run"), conf: filepath.Join(dir, "storage.conf"), outDir: filepath.Join(dir, "out"),
		pkgSets: []string{"busybox,zlib", "busybox", "apk-tools,busybox,libc-utils"}}
	conf := fmt.Sprintf("[storage]\ndriver = \"vfs\"\ngraphroot = %q\nrunroot = %q\n", e.graph, e.run)
	if err := os.WriteFile(e.conf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(e.outDir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unmountBelow(t, e.graph, e.run) })
	return e
}

// unmountBelow unmounts whatever the store left mounted below its roots.
func unmountBelow(t *testing.T, roots ...string) {
	data, _ := os.ReadFile("/proc/self/mountinfo")
	lines := strings.Split(string(data), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		f := strings.Fields(lines[i])
		if len(f) < 5 {
			continue
		}
		for _, r := range roots {
			if f[4] == r || strings.HasPrefix(f[4], r+"/") {
				if err := syscall.Unmount(f[4], syscall.MNT_DETACH); err != nil {
					t.Logf("unmount %s: %v", f[4], err)
				}
			}
		}
	}
}

// command is `rootfsd build` of package set i, tagged tag, as a child
// process in a process group of its own (so that kill -9 takes its helpers
// too).
func (e *crashEnv) command(i int, tag string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	args := []string{"--cache-dir", e.cache, "--format", "json", "build", "--distro", "alpine:3.19",
		"--repository", e.srv.Repo(), "--pkgs", e.pkgSets[i%len(e.pkgSets)],
		"--output", "tar:" + filepath.Join(e.outDir, tag+".tar"), "--tag", "crash:" + tag}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "ROOTFSD_TEST_MAIN=1", "ROOTFSD_DAEMON=never", "CONTAINERS_STORAGE_CONF="+e.conf)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	e.children++
	return cmd, &out, &errb
}

// build runs a build to its end and returns its layer digest and image ID.
func (e *crashEnv) build(t *testing.T, i int, tag string) (layer, image string) {
	t.Helper()
	cmd, out, errb := e.command(i, tag)
	if err := cmd.Run(); err != nil {
		t.Fatalf("build %d (%s): %v\n%s", i, e.pkgSets[i%len(e.pkgSets)], err, errb.String())
	}
	var res struct {
		LayerDigest string `json:"layerDigest"`
		ImageID     string `json:"imageId"`
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil || res.LayerDigest == "" {
		t.Fatalf("build %d: result %q: %v", i, out.String(), err)
	}
	return res.LayerDigest, res.ImageID
}

// killAfter starts a build and kills its process group with SIGKILL after
// delay. It says whether the build had finished first.
func (e *crashEnv) killAfter(t *testing.T, i int, tag string, delay time.Duration) bool {
	t.Helper()
	cmd, _, errb := e.command(i, tag)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("build %d failed before its kill: %v\n%s", i, err, errb.String())
		}
		return true
	case <-time.After(delay):
	}
	err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	werr := <-done
	if err == syscall.ESRCH && werr == nil { // it finished as the kill came
		return true
	}
	if err != nil {
		t.Fatalf("kill -9: %v", err)
	}
	return false
}

// verifyCache runs `rootfsd cache verify` twice: the first may repair what
// a kill left (and must then exit 0), the second must find nothing.
func (e *crashEnv) verifyCache(t *testing.T) (repaired int) {
	t.Helper()
	type report struct {
		Problems []struct {
			Kind     string
			Path     string
			Repaired bool
		}
	}
	for pass := 0; pass < 2; pass++ {
		stdout, stderr, code := cli(context.Background(), "--cache-dir", e.cache, "--format", "json", "cache", "verify")
		if code != 0 {
			t.Fatalf("cache verify (pass %d) after kill -9: exit %d\n%s%s", pass, code, stdout, stderr)
		}
		var r report
		if err := json.Unmarshal([]byte(stdout), &r); err != nil {
			t.Fatalf("cache verify: %v\n%s", err, stdout)
		}
		for _, p := range r.Problems {
			if !p.Repaired || pass == 1 {
				t.Errorf("cache verify pass %d: problem %+v", pass, p)
			}
		}
		if pass == 0 {
			repaired = len(r.Problems)
		}
	}
	return repaired
}

// checkStorage opens the private containers-storage and checks that every
// image it lists under a name is whole: with its manifest and config, and
// a layer chain that exists and is complete. containers-storage creates
// an image record and adds its name in a second step, so a kill in between
// leaves an unnamed image; leftovers says whether such images may be there
// (right after kills: the next commit removes them) and partial counts
// them. It returns the images by name.
func (e *crashEnv) checkStorage(t *testing.T, leftovers bool) (names map[string]string, partial int) {
	t.Helper()
	st, err := storage.GetStore(storage.StoreOptions{GraphRoot: e.graph, RunRoot: e.run, GraphDriverName: "vfs"})
	if err != nil {
		t.Fatalf("open containers-storage: %v", err)
	}
	defer st.Shutdown(true)
	images, err := st.Images()
	if err != nil {
		t.Fatalf("list images: %v", err)
	}
	names = map[string]string{}
	for _, img := range images {
		for _, n := range img.Names {
			names[n] = img.ID
		}
		keys, err := st.ListImageBigData(img.ID)
		if err != nil {
			t.Errorf("image %s: %v", img.ID, err)
		}
		var manifest, config bool
		for _, k := range keys {
			manifest = manifest || k == storage.ImageDigestBigDataKey || strings.HasPrefix(k, "manifest-")
			config = config || strings.HasPrefix(k, "sha256:")
		}
		if len(img.Names) == 0 {
			partial++
			if !leftovers {
				t.Errorf("unnamed image %s (bigdata %v) still in storage after a whole commit", img.ID, keys)
			}
			continue
		}
		if !manifest || !config {
			t.Errorf("image %s %v lacks its manifest or config: %v", img.ID, img.Names, keys)
		}
		for id := img.TopLayer; id != ""; {
			l, err := st.Layer(id)
			if err != nil {
				t.Errorf("image %s %v: layer %s: %v", img.ID, img.Names, id, err)
				break
			}
			if l.UncompressedDigest == "" {
				t.Errorf("image %s: layer %s is incomplete", img.ID, id)
			}
			id = l.Parent
		}
	}
	return names, partial
}

// TestCrashKill9Builds kills `rootfsd build` (outputs tar and
// containers-storage) with SIGKILL at random points, many times, against a
// slow mirror, so that kills land in index fetches, downloads, unpacking,
// layer writes and the commit. After every batch the cache verifies clean
// (what a kill left is repaired on the first pass, nothing is left on the
// second), containers-storage shows no partial image, and the next build
// succeeds with the layer digest of a build that was never interrupted.
// ROOTFSD_CRASH_KILLS sets the number of kills (default 50; 20 with -short).
func TestCrashKill9Builds(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("SKIP: the crash test commits to a private containers-storage, which needs root")
	}
	kills := 50
	if v := os.Getenv("ROOTFSD_CRASH_KILLS"); v != "" {
		if _, err := fmt.Sscan(v, &kills); err != nil {
			t.Fatalf("ROOTFSD_CRASH_KILLS=%q: %v", v, err)
		}
	}
	if testing.Short() {
		kills = 20
	}
	srv := newAPKServer(t)

	// The reference: builds that were never interrupted, in a world of
	// their own, also timing a cold build to spread the kills over it.
	ref := newCrashEnv(t, srv)
	want := make([]string, len(ref.pkgSets))
	start := time.Now()
	want[0], _ = ref.build(t, 0, "ref0")
	cold := time.Since(start)
	for i := 1; i < len(want); i++ {
		want[i], _ = ref.build(t, i, fmt.Sprintf("ref%d", i))
	}
	t.Logf("cold build %v; reference layers %v", cold, want)

	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 9))
	const batch = 5 // kills between checks
	var killed, finished, repaired, batches, partial int
	var env *crashEnv
	// span is how long the next build may take: a build that finishes
	// before its kill shortens it to its own time, so that the kills keep
	// landing inside builds as the cache warms.
	span := cold + cold/4
	for n := 0; killed < kills; n++ {
		if env == nil {
			// A new world every batch, so that kills keep landing in
			// cold work (index fetch, downloads, unpacking) and not only
			// in warm builds and commits.
			env, span = newCrashEnv(t, srv), cold+cold/4
		}
		delay := time.Duration(rng.Int64N(int64(span)))
		began := time.Now()
		if env.killAfter(t, n, fmt.Sprintf("k%d", n), delay) {
			finished++
			span = time.Since(began)
			continue
		}
		killed++
		if killed%batch != 0 && killed != kills {
			continue
		}
		batches++
		repaired += env.verifyCache(t)
		_, p := env.checkStorage(t, true)
		partial += p
		i := rng.IntN(len(env.pkgSets))
		tag := fmt.Sprintf("after%d", n)
		layer, id := env.build(t, i, tag)
		if layer != want[i] {
			t.Errorf("after batch %d: layer %s, want %s (%s)", batches, layer, want[i], env.pkgSets[i])
		}
		if names, _ := env.checkStorage(t, false); names["localhost/crash:"+tag] != id || id == "" {
			got := names["localhost/crash:"+tag]
			t.Errorf("after batch %d: crash:%s is image %q in storage, build said %q", batches, tag, got, id)
		}
		env.verifyCache(t)
		if t.Failed() {
			break
		}
		env = nil
	}
	t.Logf("%d kills (-9 of the build's process group), %d builds finished before their kill, %d batches, %d cache problems repaired by verify, %d partial image records left by kills (removed by the next commit)",
		killed, finished, batches, repaired, partial)
}
