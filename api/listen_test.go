package api

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary act as a daemon started by systemd.
func TestMain(m *testing.M) {
	if os.Getenv("API_TEST_SYSTEMD_CHILD") == "1" {
		systemdChild()
		return
	}
	os.Exit(m.Run())
}

// systemdChild serves Version on the socket systemd would pass as fd 3,
// until stdin closes.
func systemdChild() {
	// systemd sets LISTEN_PID to the pid it forked; a test cannot know it
	// before the start, so the child names itself.
	os.Setenv("LISTEN_PID", strconv.Itoa(os.Getpid()))
	ln, activated, err := Listen("", ListenOptions{Group: -1})
	if err != nil || !activated {
		os.Stderr.WriteString("child: no activation: " + func() string {
			if err != nil {
				return err.Error()
			}
			return "not activated"
		}() + "\n")
		os.Exit(3)
	}
	if os.Getenv("LISTEN_FDS") != "" {
		os.Stderr.WriteString("child: LISTEN_FDS left for children\n")
		os.Exit(4)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { io.Copy(io.Discard, os.Stdin); cancel() }()
	srv := NewServer(&fake{}, ServerOptions{Version: "activated", Policy: Policy{UID: uint32(os.Geteuid())},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err := srv.Serve(ctx, ln, time.Second); err != nil {
		os.Exit(5)
	}
	os.Exit(0)
}

func TestSystemdSocketActivation(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "act.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	f, err := ln.(*net.UnixListener).File()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "API_TEST_SYSTEMD_CHILD=1", "LISTEN_FDS=1")
	cmd.ExtraFiles = []*os.File{f} // fd 3
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close() // the child holds the socket now; our copy goes
	c := Dial(sock)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	v, _, err := c.Version(ctx)
	c.Close()
	stdin.Close()
	werr := cmd.Wait()
	if err != nil || v != "activated" {
		t.Fatalf("version through the activated socket: %q, %v (child: %v %s)", v, err, werr, stderr.String())
	}
	if werr != nil {
		t.Errorf("child: %v %s", werr, stderr.String())
	}
}

func TestListenReplacesStaleSocketOnly(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "s.sock")
	// A live socket is not taken over.
	live, _, err := Listen(sock, ListenOptions{Group: -1})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Listen(sock, ListenOptions{Group: -1}); err == nil || !strings.Contains(err.Error(), "another daemon") {
		t.Errorf("second Listen on a live socket: %v", err)
	}
	fi, err := os.Stat(sock)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %v, want 0600", fi.Mode().Perm())
	}
	// A socket left by a killed daemon is replaced.
	live.(*net.UnixListener).SetUnlinkOnClose(false)
	live.Close()
	ln, _, err := Listen(sock, ListenOptions{Group: -1, Mode: 0o660})
	if err != nil {
		t.Fatalf("Listen over a stale socket: %v", err)
	}
	ln.Close()
	// A regular file is never removed.
	if err := os.WriteFile(sock, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Listen(sock, ListenOptions{Group: -1}); err == nil {
		t.Error("Listen replaced a regular file")
	}
}

func TestPrivateDir(t *testing.T) {
	base := t.TempDir()
	sock := filepath.Join(base, "rootfsd", "rootfsd.sock")
	ln, _, err := Listen(sock, ListenOptions{Group: -1, PrivateDir: true})
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	fi, err := os.Stat(filepath.Dir(sock))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("socket directory mode %v, want 0700", fi.Mode().Perm())
	}
	open := filepath.Join(base, "open")
	if err := os.Mkdir(open, 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(open, 0o777)
	if _, _, err := Listen(filepath.Join(open, "s.sock"), ListenOptions{Group: -1, PrivateDir: true}); err == nil || !strings.Contains(err.Error(), "writable by others") {
		t.Errorf("Listen in a world-writable directory: %v", err)
	}
}

func TestDefaultSocket(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	tests := []struct {
		euid int
		env  map[string]string
		want string
	}{
		{0, map[string]string{"XDG_RUNTIME_DIR": "/run/user/0"}, "/run/rootfsd/rootfsd.sock"},
		{1000, map[string]string{"XDG_RUNTIME_DIR": "/run/user/1000"}, "/run/user/1000/rootfsd/rootfsd.sock"},
		{1000, map[string]string{"XDG_RUNTIME_DIR": "relative"}, filepath.Join(os.TempDir(), "rootfsd-1000", "rootfsd.sock")},
		{1000, nil, filepath.Join(os.TempDir(), "rootfsd-1000", "rootfsd.sock")},
	}
	for _, tt := range tests {
		if got := DefaultSocket(tt.euid, env(tt.env)); got != tt.want {
			t.Errorf("DefaultSocket(%d, %v) = %q, want %q", tt.euid, tt.env, got, tt.want)
		}
	}
}
