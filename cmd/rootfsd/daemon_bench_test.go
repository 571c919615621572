package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkDaemonOverhead measures a cached build (the layer is in the
// cache; only the tar is written) run as a separate rootfsd process,
// in-process (--daemon never) and through the daemon (--daemon always), on
// the same cache, so that the difference is what the daemon costs. It also
// reports the daemon's resident memory idle and its peak over the builds.
// make bench runs it (scripts/bench.sh).
func BenchmarkDaemonOverhead(b *testing.B) {
	srv := newAPKServer(b)
	srv.chunk = 0
	dir, err := os.MkdirTemp("", "rootfsd-bench-")
	if err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll(dir)
	sock, cache := filepath.Join(dir, "b.sock"), filepath.Join(dir, "cache")
	d := exec.Command(os.Args[0], "--cache-dir", cache, "--socket", sock, "serve")
	d.Env = append(os.Environ(), "ROOTFSD_TEST_MAIN=1")
	if err := d.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { d.Process.Kill(); d.Wait() }()
	for deadline := time.Now().Add(20 * time.Second); !answers(sock); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatal("daemon did not start")
		}
	}
	time.Sleep(100 * time.Millisecond)
	idle := procKB(d.Process.Pid, "VmRSS")
	cmd := func(mode string, args ...string) *exec.Cmd {
		c := exec.Command(os.Args[0], append([]string{"--cache-dir", cache, "--socket", sock, "--daemon", mode, "-q"}, args...)...)
		c.Env = append(os.Environ(), "ROOTFSD_TEST_MAIN=1")
		return c
	}
	build := []string{"build", "--distro", "alpine:3.19", "--repository", srv.Repo(), "--pkgs", "busybox,apk-tools,libc-utils",
		"--output", "tar:" + filepath.Join(dir, "out.tar")}
	if out, err := cmd("always", build...).CombinedOutput(); err != nil {
		b.Fatalf("first build: %v\n%s", err, out)
	}
	for _, mode := range []string{"never", "always"} {
		name := map[string]string{"never": "in-process", "always": "daemon"}[mode]
		b.Run("build/"+name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if out, err := cmd(mode, build...).CombinedOutput(); err != nil {
					b.Fatalf("%v\n%s", err, out)
				}
			}
		})
		b.Run("resolve/"+name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if out, err := cmd(mode, append([]string{"resolve"}, build[1:7]...)...).CombinedOutput(); err != nil {
					b.Fatalf("%v\n%s", err, out)
				}
			}
		})
	}
	b.Run("daemon-rss", func(b *testing.B) {
		b.ReportMetric(float64(idle)/1024, "idle-MB")
		b.ReportMetric(float64(procKB(d.Process.Pid, "VmHWM"))/1024, "peak-MB")
	})
}

// procKB reads a "kB" field of /proc/PID/status.
func procKB(pid int, field string) int64 {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && k == field {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}
