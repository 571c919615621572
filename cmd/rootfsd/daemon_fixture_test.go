package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rootfsd/rootfsd/store/image/publish"
)

// TestMain lets the test binary run as rootfsd itself (ROOTFSD_TEST_MAIN=1),
// so that tests can start a daemon they can kill -9 or run a client as
// another user, without building the command first.
func TestMain(m *testing.M) {
	// The tests without user namespaces: seccomp_test.go.
	if os.Getenv(denyUsernsEnv) == "1" {
		os.Exit(execWithoutUserns(os.Args[1:]))
	}
	if os.Getenv(cloneProbeEnv) == "1" {
		os.Exit(cloneNewUser())
	}
	// The containers-storage commit re-executes the binary (here: the test
	// binary) for its helpers, as main does.
	if publish.InitReexec() {
		os.Exit(0)
	}
	if os.Getenv("ROOTFSD_TEST_MAIN") == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	// Tests never talk to a daemon the developer may be running: those
	// that want one start it and say --daemon.
	os.Setenv("ROOTFSD_DAEMON", "never")
	os.Exit(m.Run())
}

// apkServer serves the shared Alpine fixtures like a mirror, slowly, and
// counts per path the answers of 200 whose whole body was sent. A path named in
// hold stops after its first chunk until release is closed (or the client
// goes); held receives the path when that happens.
type apkServer struct {
	*httptest.Server
	dir     string
	chunk   time.Duration
	mu      sync.Mutex
	served  map[string]int // complete 200 answers
	hold    map[string]bool
	release chan struct{}
	held    chan string
}

func newAPKServer(t testing.TB, hold ...string) *apkServer {
	t.Helper()
	s := &apkServer{dir: alpineFixtures(t), chunk: 2 * time.Millisecond, served: map[string]int{}, hold: map[string]bool{},
		release: make(chan struct{}), held: make(chan string, 16)}
	for _, h := range hold {
		s.hold[h] = true
	}
	files := http.FileServer(http.Dir(s.dir))
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, ".apk") {
			rec := &statusRecorder{ResponseWriter: w}
			files.ServeHTTP(rec, r)
			if rec.status == 0 || rec.status == 200 {
				s.count(r.URL.Path)
			}
			return
		}
		data, err := os.ReadFile(filepath.Join(s.dir, filepath.FromSlash(r.URL.Path)))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(data)))
		base := filepath.Base(r.URL.Path)
		for i := 0; i < len(data); i += 16 << 10 {
			if _, err := w.Write(data[i:min(i+16<<10, len(data))]); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			if i == 0 && s.holds(base) {
				s.held <- base
				select {
				case <-s.release:
				case <-r.Context().Done():
					return
				}
			}
			time.Sleep(s.chunk)
		}
		s.count(r.URL.Path)
	}))
	t.Cleanup(func() {
		s.Release()
		s.Close()
	})
	return s
}

func (s *apkServer) holds(base string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hold[base]
}

// Release lets held downloads go on, and stops holding.
func (s *apkServer) Release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.hold) > 0 {
		s.hold = map[string]bool{}
		close(s.release)
	}
}

func (s *apkServer) count(path string) {
	s.mu.Lock()
	s.served[path]++
	s.mu.Unlock()
}

func (s *apkServer) Served() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for k, v := range s.served {
		out[k] = v
	}
	return out
}

// Repo is the repository URL to pass with --repository.
func (s *apkServer) Repo() string { return s.URL + "/v3.19.1-iso/apks" }

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// syncBuffer is a bytes.Buffer safe for a daemon's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// cli runs the command in this process with ctx.
func cli(ctx context.Context, args ...string) (stdout, stderr string, code int) {
	var out, errb bytes.Buffer
	code = run(ctx, args, &out, &errb)
	return out.String(), errb.String(), code
}

// socketDir is a short directory for sockets (sun_path holds 108 bytes).
func socketDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "rootfsd-sock-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// startDaemon runs `rootfsd serve` in this process until the test ends.
func startDaemon(t *testing.T, sock, cache string, extra ...string) (*syncBuffer, func() error) {
	t.Helper()
	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	args := append([]string{"--cache-dir", cache, "--socket", sock, "serve", "--log-format", "json", "--log-level", "debug"}, extra...)
	go func() { done <- run(ctx, args, io.Discard, logs) }()
	waitSocket(t, sock, logs.String)
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				return fmt.Errorf("serve exited %d:\n%s", code, logs.String())
			}
			return nil
		case <-time.After(30 * time.Second):
			return fmt.Errorf("serve did not stop")
		}
	}
	t.Cleanup(func() { _ = stop() })
	return logs, stop
}

func waitSocket(t *testing.T, sock string, logs func() string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !answers(sock) {
		if time.Now().After(deadline) {
			t.Fatalf("no daemon on %s:\n%s", sock, logs())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// daemonProcess runs `rootfsd serve` as a child process (the test binary).
func daemonProcess(t *testing.T, sock, cache string) (*exec.Cmd, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	cmd := exec.Command(os.Args[0], "--cache-dir", cache, "--socket", sock, "serve", "--log-format", "json", "--drain-timeout", "20s")
	cmd.Env = append(os.Environ(), "ROOTFSD_TEST_MAIN=1")
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	waitSocket(t, sock, logs.String)
	return cmd, logs
}
