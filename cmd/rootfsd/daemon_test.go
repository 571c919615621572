package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rootfsd/rootfsd/cmd/rootfsd/engine"
)

// Four clients build overlapping package sets through one daemon at once;
// one is cancelled mid-download. The other three finish, every index and
// package went to the network once (by the server's count, the daemon's
// metrics and its logs), the cache verifies, and the daemon's results equal
// the in-process ones.
func TestDaemonSharesWorkBetweenClients(t *testing.T) {
	srv := newAPKServer(t, "libcap2-2.69-r1.apk")
	sock := filepath.Join(socketDir(t), "d.sock")
	cache := t.TempDir()
	logs, stop := startDaemon(t, sock, cache)
	out := t.TempDir()

	sets := map[string]string{
		"a": "busybox,libc-utils",
		"b": "busybox,zlib,scanelf",
		"c": "apk-tools,busybox",
		"d": "libcap2", // cancelled while libcap2 downloads
	}
	build := func(ctx context.Context, name string, extra ...string) (string, string, int) {
		args := append([]string{"--socket", sock, "--format", "json"}, extra...)
		args = append(args, "build", "--distro", "alpine:3.19", "--repository", srv.Repo(),
			"--pkgs", sets[name], "--output", "tar:"+filepath.Join(out, name+".tar"))
		return cli(ctx, args...)
	}
	type result struct {
		stdout, stderr string
		code           int
	}
	results := map[string]result{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	ctxD, cancelD := context.WithCancel(context.Background())
	defer cancelD()
	for name := range sets {
		wg.Add(1)
		go func(name string) {
			defer wg.Done()
			ctx := context.Background()
			if name == "d" {
				ctx = ctxD
			}
			o, e, code := build(ctx, name, "--daemon", "always")
			mu.Lock()
			results[name] = result{o, e, code}
			mu.Unlock()
		}(name)
	}
	select {
	case <-srv.held:
	case <-time.After(60 * time.Second):
		t.Fatalf("libcap2 was never requested:\n%s", logs.String())
	}
	// Cancel d once its only download under way is the held one: what it
	// shares with the others is then complete, and cancelling it must not
	// disturb them (had d been the only reader of a download still under
	// way, that download would rightly stop with it).
	for deadline := time.Now().Add(30 * time.Second); ; {
		o, _, _ := cli(context.Background(), "--socket", sock, "--daemon", "always", "--format", "json", "status")
		var st statusView
		if json.Unmarshal([]byte(o), &st) == nil && st.Status != nil && st.Status.Share.InFlight == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("downloads never settled:\n%s", o)
		}
		time.Sleep(2 * time.Millisecond)
	}
	cancelD()
	wg.Wait()
	srv.Release()

	for name, r := range results {
		if name == "d" {
			if r.code != exitInterrupted {
				t.Errorf("cancelled client d: exit %d, want %d\n%s", r.code, exitInterrupted, r.stderr)
			}
			continue
		}
		if r.code != 0 {
			t.Fatalf("client %s: exit %d\n%s\ndaemon:\n%s", name, r.code, r.stderr, logs.String())
		}
		if _, err := os.Stat(filepath.Join(out, name+".tar")); err != nil {
			t.Errorf("client %s: %v", name, err)
		}
		// --format json streams the events as JSON lines on stderr.
		if !strings.Contains(r.stderr, `{"event":{"kind":"download"`) {
			t.Errorf("client %s: no JSON event lines on stderr:\n%.500s", name, r.stderr)
		}
	}

	// The mirror's view: nothing was sent twice.
	served := srv.Served()
	if served["/v3.19.1-iso/apks/x86_64/APKINDEX.tar.gz"] != 1 {
		t.Errorf("APKINDEX served %d times", served["/v3.19.1-iso/apks/x86_64/APKINDEX.tar.gz"])
	}
	apks := 0
	for p, n := range served {
		if n != 1 {
			t.Errorf("%s served %d times, want once", p, n)
		}
		if strings.HasSuffix(p, ".apk") {
			apks++
		}
	}
	if apks < 8 {
		t.Errorf("only %d packages fetched: %v", apks, served)
	}

	// The daemon's view: its metrics and its logs say the same.
	stdout, stderr, code := cli(context.Background(), "--socket", sock, "--daemon", "always", "--format", "json", "status")
	if code != 0 {
		t.Fatalf("status: %s", stderr)
	}
	var st statusView
	if err := json.Unmarshal([]byte(stdout), &st); err != nil || !st.Running || st.Status == nil {
		t.Fatalf("status: %v\n%s", err, stdout)
	}
	sh := st.Status.Share
	if len(sh.PerURL) != len(served) || sh.Joined == 0 || sh.InFlight != 0 {
		t.Errorf("share metrics: %d URLs downloaded (the server sent %d), %d upstream requests, %d joined, %d in flight",
			len(sh.PerURL), len(served), sh.Upstream, sh.Joined, sh.InFlight)
	}
	for u, n := range sh.PerURL {
		if n != 1 {
			t.Errorf("daemon metrics: %s downloaded %d times", u, n)
		}
	}
	perURL := map[string]int{}
	sc := bufio.NewScanner(strings.NewReader(logs.String()))
	for sc.Scan() {
		var line struct{ Msg, URL string }
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "upstream download" {
			perURL[line.URL]++
		}
	}
	if len(perURL) != len(sh.PerURL) {
		t.Errorf("daemon logs show %d upstream downloads, metrics %d", len(perURL), len(sh.PerURL))
	}
	for u, n := range perURL {
		if n != 1 {
			t.Errorf("daemon logs: %s downloaded %d times", u, n)
		}
	}

	// The cache the daemon kept passes verification, through the daemon.
	if stdout, stderr, code := cli(context.Background(), "--socket", sock, "--daemon", "always", "cache", "verify"); code != 0 || !strings.Contains(stdout, " 0 problems") {
		t.Errorf("cache verify: exit %d\n%s%s", code, stdout, stderr)
	}

	// Daemon and in-process give the same result for the same request.
	viaDaemon, stderr, code := build(context.Background(), "a", "--daemon", "always")
	if code != 0 {
		t.Fatalf("daemon build: %s", stderr)
	}
	inProcess, stderr, code := build(context.Background(), "a", "--daemon", "never", "--cache-dir", t.TempDir())
	if code != 0 {
		t.Fatalf("in-process build: %s", stderr)
	}
	var rd, rl engine.BuildResult
	if err := json.Unmarshal([]byte(viaDaemon), &rd); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(inProcess), &rl); err != nil {
		t.Fatal(err)
	}
	if rd.Lock.Digest() != rl.Lock.Digest() || rd.LayerDigest != rl.LayerDigest || rd.LayerDigest == "" {
		t.Errorf("daemon: lock %s layer %s; in-process: lock %s layer %s", rd.Lock.Digest(), rd.LayerDigest, rl.Lock.Digest(), rl.LayerDigest)
	}
	resolve := func(mode string) string {
		o, e, code := cli(context.Background(), "--socket", sock, "--daemon", mode, "--cache-dir", cache, "--format", "json", "-q",
			"resolve", "--distro", "alpine:3.19", "--repository", srv.Repo(), "--pkgs", sets["c"])
		if code != 0 {
			t.Fatalf("resolve --daemon %s: %s", mode, e)
		}
		return o
	}
	before := strings.Count(logs.String(), `"method":"Resolve"`)
	if a, b := resolve("auto"), resolve("never"); a != b {
		t.Errorf("resolve output differs:\ndaemon:\n%s\nin-process:\n%s", a, b)
	}
	if strings.Count(logs.String(), `"method":"Resolve"`) != before+2 { // request and done
		t.Errorf("--daemon auto with the daemon's own cache did not use the daemon")
	}
	if err := stop(); err != nil {
		t.Error(err)
	}
}

// kill -9 of the daemon mid-build, then a restart: the same build succeeds
// and the cache is consistent.
func TestDaemonKill9MidBuild(t *testing.T) {
	srv := newAPKServer(t, "busybox-1.36.1-r15.apk")
	sock := filepath.Join(socketDir(t), "k.sock")
	cache := t.TempDir()
	out := filepath.Join(t.TempDir(), "x.tar")
	args := []string{"--socket", sock, "--daemon", "always", "build", "--distro", "alpine:3.19", "--repository", srv.Repo(),
		"--pkgs", "busybox,zlib", "--output", "tar:" + out}
	d1, logs := daemonProcess(t, sock, cache)
	res := make(chan int, 1)
	go func() { _, _, code := cli(context.Background(), args...); res <- code }()
	select {
	case <-srv.held:
	case <-time.After(60 * time.Second):
		t.Fatalf("busybox never requested:\n%s", logs.String())
	}
	if err := d1.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	d1.Wait()
	if code := <-res; code == 0 {
		t.Fatal("build succeeded through a killed daemon")
	}
	srv.Release()
	daemonProcess(t, sock, cache) // the stale socket is replaced
	if _, stderr, code := cli(context.Background(), args...); code != 0 {
		t.Fatalf("build after restart: exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(out); err != nil {
		t.Error(err)
	}
	stdout, stderr, code := cli(context.Background(), "--socket", sock, "--daemon", "always", "--format", "json", "cache", "verify")
	if code != 0 {
		t.Fatalf("cache verify after kill -9: exit %d\n%s%s", code, stdout, stderr)
	}
	var vr struct {
		Problems []struct {
			Kind     string
			Repaired bool
		}
	}
	if err := json.Unmarshal([]byte(stdout), &vr); err != nil {
		t.Fatal(err)
	}
	for _, p := range vr.Problems {
		if !p.Repaired {
			t.Errorf("unrepaired problem after kill -9: %+v", p)
		}
	}
}

// SIGTERM drains: the running build finishes, then the daemon exits 0.
func TestDaemonSIGTERMDrains(t *testing.T) {
	srv := newAPKServer(t, "busybox-1.36.1-r15.apk")
	sock := filepath.Join(socketDir(t), "t.sock")
	d, logs := daemonProcess(t, sock, t.TempDir())
	out := filepath.Join(t.TempDir(), "x.tar")
	res := make(chan string, 1)
	go func() {
		_, stderr, code := cli(context.Background(), "--socket", sock, "--daemon", "always", "build", "--distro", "alpine:3.19",
			"--repository", srv.Repo(), "--pkgs", "busybox", "--output", "tar:"+out)
		if code != 0 {
			res <- stderr
		}
		close(res)
	}()
	<-srv.held
	if err := d.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), `"msg":"draining"`) {
		if time.Now().After(deadline) {
			t.Fatalf("no drain:\n%s", logs.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	srv.Release()
	if stderr, failed := <-res; failed {
		t.Fatalf("build during drain failed: %s\n%s", stderr, logs.String())
	}
	if err := d.Wait(); err != nil {
		t.Errorf("daemon after SIGTERM: %v\n%s", err, logs.String())
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("socket left behind: %v", err)
	}
}

// A client with another uid is refused by its socket credentials; a member
// of an allowed group is served. Needs root (to run the client as nobody).
func TestDaemonRefusesOtherUsers(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("SKIP (loud): needs root to run a client under another uid")
	}
	dir := socketDir(t)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "rootfsd.test")
	data, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "u.sock")
	const group = 4242
	startDaemon(t, sock, t.TempDir(), "--allow-group", "4242", "--socket-mode", "0666")
	status := func(groups ...uint32) (string, error) {
		cmd := exec.Command(bin, "--socket", sock, "--daemon", "always", "status")
		cmd.Env = []string{"ROOTFSD_TEST_MAIN=1", "HOME=/nonexistent", "PATH=/usr/bin:/bin"}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534, Groups: groups}}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := status()
	if err == nil || !strings.Contains(out, "not allowed") || !strings.Contains(out, "uid 65534") {
		t.Errorf("uid 65534 outside the group: %v\n%s", err, out)
	}
	out, err = status(group)
	if err != nil || !strings.Contains(out, "daemon ") {
		t.Errorf("uid 65534 in group %d: %v\n%s", group, err, out)
	}
}

// grpcurl, a gRPC client that knows rootfsd only through server
// reflection, lists the services and runs a real Build on the daemon.
func TestGrpcurlBuildsThroughDaemon(t *testing.T) {
	bin := os.Getenv("ROOTFSD_GRPCURL")
	if bin == "" {
		if p, err := filepath.Abs("../../bin/grpcurl"); err == nil {
			if _, err := os.Stat(p); err == nil {
				bin = p
			}
		}
	}
	if bin == "" {
		if p, err := exec.LookPath("grpcurl"); err == nil {
			bin = p
		}
	}
	if bin == "" {
		t.Skip("SKIP (loud): grpcurl not installed: run sh api/tools.sh (or set ROOTFSD_GRPCURL)")
	}
	srv := newAPKServer(t)
	sock := filepath.Join(socketDir(t), "g.sock")
	startDaemon(t, sock, t.TempDir())
	target := "unix://" + sock
	grpcurl := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(bin, append([]string{"-plaintext"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("grpcurl %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	if list := grpcurl(target, "list"); !strings.Contains(list, "rootfsd.v1.RootfsdService") {
		t.Errorf("grpcurl list:\n%s", list)
	}
	tarPath := filepath.Join(t.TempDir(), "g.tar")
	req, _ := json.Marshal(map[string]any{
		"request": map[string]any{"distro": "alpine:3.19", "arch": "x86_64", "variant": "base", "packages": []string{"busybox"},
			"sources": []map[string]string{{"url": srv.Repo()}}},
		"outputs": []string{"tar:" + tarPath},
	})
	out := grpcurl("-d", string(req), target, "rootfsd.v1.RootfsdService/Build")
	if !strings.Contains(out, `"event"`) || !strings.Contains(out, `"layerDigest"`) {
		t.Errorf("grpcurl Build:\n%.2000s", out)
	}
	if _, err := os.Stat(tarPath); err != nil {
		t.Errorf("Build through grpcurl wrote no tar: %v", err)
	}
}
