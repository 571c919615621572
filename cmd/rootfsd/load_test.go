package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// loadLeaves are fixture packages whose combinations make new layers.
var loadLeaves = []string{"alpine-release", "busybox-binsh", "ca-certificates-bundle", "libcap2", "zlib", "scanelf",
	"musl-utils", "libc-utils", "apk-tools", "alpine-keys", "mdev-conf", "ssl_client", "libssl3"}

// loadStats are the figures of a load run.
type loadStats struct {
	mu                                   sync.Mutex
	cached, uncached, canceled, failures int
	cachedLatency                        []time.Duration
	errs                                 []string
}

func (s *loadStats) add(kind string, d time.Duration, failed bool, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch kind {
	case "cached":
		s.cached++
		s.cachedLatency = append(s.cachedLatency, d)
	case "uncached":
		s.uncached++
	case "canceled":
		s.canceled++
	}
	if failed {
		s.failures++
		if len(s.errs) < 5 {
			s.errs = append(s.errs, kind+": "+msg)
		}
	}
}

// TestDaemonLoad runs a daemon (in this process, so that its goroutines
// count) under 50 concurrent clients on its socket for a while
// (ROOTFSD_LOAD_DURATION, default 20s; 5s with -short), with a mix of
// cached builds, uncached builds (new package combinations and trims) and
// builds the client cancels. Every build that was not canceled must
// succeed; afterwards the goroutines and file descriptors are back to what
// they were, and the cache verifies clean. It logs the requests, the
// p50/p99 latency of cached builds and the peak RSS.
func TestDaemonLoad(t *testing.T) {
	dur := 20 * time.Second
	if v := os.Getenv("ROOTFSD_LOAD_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("ROOTFSD_LOAD_DURATION=%q: %v", v, err)
		}
		dur = d
	} else if testing.Short() {
		dur = 5 * time.Second
	}
	const clients = 50
	srv := newAPKServer(t)
	sock := filepath.Join(socketDir(t), "l.sock")
	cache, outDir := t.TempDir(), t.TempDir()
	logs, stop := startDaemon(t, sock, cache)
	build := func(ctx context.Context, out string, pkgs []string, trim string) (string, int) {
		_, stderr, code := cli(ctx, "--socket", sock, "--daemon", "always", "-q", "build", "--distro", "alpine:3.19",
			"--repository", srv.Repo(), "--pkgs", strings.Join(pkgs, ","), "--trim", trim, "--output", "tar:"+out)
		return stderr, code
	}
	cachedPkgs := []string{"busybox", "zlib"}
	if stderr, code := build(context.Background(), filepath.Join(outDir, "warm.tar"), cachedPkgs, "docs"); code != 0 {
		t.Fatalf("warm-up build: exit %d\n%s\n%s", code, stderr, logs.String())
	}
	settle := func() (int, int) {
		srv.CloseClientConnections()
		time.Sleep(500 * time.Millisecond)
		runtime.GC()
		return runtime.NumGoroutine(), countFDs(t)
	}
	g0, fd0 := settle()

	var st loadStats
	deadline := time.Now().Add(dur)
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(c), uint64(time.Now().UnixNano())))
			for n := 0; time.Now().Before(deadline); n++ {
				out := filepath.Join(outDir, fmt.Sprintf("c%d-%d.tar", c, n%2))
				switch r := rng.IntN(10); {
				case r < 6: // cached
					start := time.Now()
					stderr, code := build(context.Background(), out, cachedPkgs, "docs")
					st.add("cached", time.Since(start), code != 0, stderr)
				case r < 8: // uncached: a new combination
					pkgs := []string{"busybox"}
					for _, i := range rng.Perm(len(loadLeaves))[:1+rng.IntN(3)] {
						pkgs = append(pkgs, loadLeaves[i])
					}
					trim := []string{"none", "docs", "minimal"}[rng.IntN(3)]
					stderr, code := build(context.Background(), out, pkgs, trim)
					st.add("uncached", 0, code != 0, fmt.Sprintf("%v %s: %s", pkgs, trim, stderr))
				default: // canceled by the client at a random point
					ctx, cancel := context.WithTimeout(context.Background(), time.Duration(rng.IntN(300))*time.Millisecond)
					pkgs := []string{"busybox", loadLeaves[rng.IntN(len(loadLeaves))]}
					build(ctx, out, pkgs, []string{"none", "minimal"}[rng.IntN(2)])
					cancel()
					st.add("canceled", 0, false, "")
				}
			}
		}(c)
	}
	peak := int64(0)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for tick := time.NewTicker(100 * time.Millisecond); ; {
		peak = max(peak, procKB(os.Getpid(), "VmRSS"))
		select {
		case <-tick.C:
			continue
		case <-done:
			tick.Stop()
		}
		break
	}

	// Canceled builds may still be winding down in the daemon, and a
	// client whose build was canceled may still hold its connection when
	// the command returns (it closes idle connections only; the
	// connection goes after its idle timeout, 30s, as it would with the
	// process): wait for both before counting.
	var g1, fd1 int
	waited := time.Now()
	for end := time.Now().Add(40 * time.Second); ; {
		g1, fd1 = settle()
		if (g1 <= g0 && fd1 <= fd0) || time.Now().After(end) {
			break
		}
	}
	waitedFor := time.Since(waited).Round(100 * time.Millisecond)
	verifyClean(t, cache)
	slices.Sort(st.cachedLatency)
	pct := func(p float64) time.Duration {
		if len(st.cachedLatency) == 0 {
			return 0
		}
		return st.cachedLatency[min(len(st.cachedLatency)-1, int(p*float64(len(st.cachedLatency))))]
	}
	total := st.cached + st.uncached + st.canceled
	t.Logf("load: %d clients for %v: %d requests (%d cached, %d uncached, %d canceled), %d failures; cached p50 %v p99 %v; peak RSS %d MiB (daemon and clients); goroutines %d before, %d after; fds %d before, %d after (settled in %v)",
		clients, dur, total, st.cached, st.uncached, st.canceled, st.failures, pct(0.5), pct(0.99), peak>>10, g0, g1, fd0, fd1, waitedFor)
	if st.failures > 0 {
		t.Errorf("%d requests failed that should have succeeded; first: %q", st.failures, st.errs)
	}
	if g1 > g0 {
		buf := make([]byte, 1<<20)
		t.Errorf("goroutines leaked: %d before, %d after\n%s", g0, g1, buf[:runtime.Stack(buf, true)])
	}
	if fd1 > fd0 {
		t.Errorf("file descriptors leaked: %d before, %d after", fd0, fd1)
	}
	if err := stop(); err != nil {
		t.Error(err)
	}
}

func countFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}
