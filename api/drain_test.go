package api

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"
)

// startServer serves svc on a fresh socket with the given drain timeout and
// returns the client, the serving context's cancel and Serve's result.
func startServer(t *testing.T, svc Service, drain time.Duration) (*Server, *Client, context.CancelFunc, <-chan error) {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "d.sock")
	ln, _, err := Listen(sock, ListenOptions{Group: -1})
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(svc, ServerOptions{Policy: Policy{UID: uint32(geteuid())}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln, drain) }()
	c := Dial(sock)
	t.Cleanup(func() { cancel(); c.Close() })
	return srv, c, cancel, done
}

// SIGTERM (the serving context ending) lets a running build finish.
func TestDrainLetsRunningBuildsFinish(t *testing.T) {
	f := &fake{result: &BuildResult{LayerDigest: "done"}, block: make(chan struct{}), started: make(chan struct{}, 1)}
	srv, c, stop, served := startServer(t, f, 10*time.Second)
	res := make(chan error, 1)
	go func() {
		r, err := c.Build(context.Background(), Options{}, BuildRequest{}, nil)
		if err == nil && r.LayerDigest != "done" {
			err = errors.New("wrong result " + r.LayerDigest)
		}
		res <- err
	}()
	<-f.started
	stop()
	for !srv.Draining() {
		time.Sleep(time.Millisecond)
	}
	// New connections are refused while draining.
	c2 := Dial(c.Socket())
	if _, err := c2.Resolve(context.Background(), Options{}, testRequest(), nil); err == nil {
		t.Error("a new request was served while draining")
	}
	select {
	case err := <-served:
		t.Fatalf("Serve returned %v before the build finished", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(f.block)
	if err := <-res; err != nil {
		t.Errorf("build during drain: %v", err)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve after a clean drain: %v", err)
	}
}

// A build still running when the drain timeout ends is cancelled cleanly.
func TestDrainTimeoutCancelsBuilds(t *testing.T) {
	f := &fake{block: make(chan struct{}), started: make(chan struct{}, 1), gotCtx: make(chan error, 1)}
	_, c, stop, served := startServer(t, f, 200*time.Millisecond)
	res := make(chan error, 1)
	go func() { _, err := c.Build(context.Background(), Options{}, BuildRequest{}, nil); res <- err }()
	<-f.started
	t0 := time.Now()
	stop()
	if err := <-f.gotCtx; !errors.Is(err, context.Canceled) {
		t.Errorf("build ctx after the drain timeout: %v", err)
	}
	if err := <-res; err == nil {
		t.Error("cancelled build reported success")
	}
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if d := time.Since(t0); d > 5*time.Second {
		t.Errorf("drain took %v", d)
	}
}
