package api

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rootfsd/rootfsd/repo"
)

// fake is a Service with canned answers; block, when set, holds Build until
// it is closed or the request's context ends.
type fake struct {
	plan    *repo.Plan
	lock    *repo.Lock
	infos   []repo.PackageInfo
	result  *BuildResult
	usage   *CacheUsage
	blobs   []Blob
	verify  *VerifyReport
	prune   *PruneReport
	err     error
	events  []repo.Event
	block   chan struct{}
	started chan struct{} // receives once Build runs
	gotCtx  chan error    // receives Build's ctx.Err() when it returns
	gotReq  chan BuildRequest
	gotOpt  chan Options
	pruneIn chan PruneOptions
}

func (f *fake) emit(rep repo.Reporter) {
	for _, e := range f.events {
		rep.Report(e)
	}
}

func (f *fake) Build(ctx context.Context, opt Options, req BuildRequest, rep repo.Reporter) (*BuildResult, error) {
	if f.gotReq != nil {
		f.gotReq <- req
	}
	if f.gotOpt != nil {
		f.gotOpt <- opt
	}
	f.emit(rep)
	if f.started != nil {
		f.started <- struct{}{}
	}
	if f.block != nil {
		select {
		case <-f.block:
		case <-ctx.Done():
			if f.gotCtx != nil {
				f.gotCtx <- ctx.Err()
			}
			return nil, ctx.Err()
		}
	}
	if f.gotCtx != nil {
		f.gotCtx <- ctx.Err()
	}
	return f.result, f.err
}

func (f *fake) Resolve(ctx context.Context, opt Options, req repo.Request, rep repo.Reporter) (*repo.Plan, error) {
	f.emit(rep)
	return f.plan, f.err
}

func (f *fake) Lock(ctx context.Context, opt Options, req repo.Request, rep repo.Reporter) (*repo.Lock, error) {
	f.emit(rep)
	return f.lock, f.err
}

func (f *fake) Show(ctx context.Context, opt Options, req repo.Request, name string, rep repo.Reporter) ([]repo.PackageInfo, error) {
	f.emit(rep)
	return f.infos, f.err
}

func (f *fake) CacheStats(context.Context, Options) (*CacheUsage, error) { return f.usage, f.err }
func (f *fake) CacheList(context.Context, Options) ([]Blob, error)       { return f.blobs, f.err }
func (f *fake) CacheVerify(context.Context, Options) (*VerifyReport, error) {
	return f.verify, f.err
}

func (f *fake) CachePrune(_ context.Context, _ Options, p PruneOptions) (*PruneReport, error) {
	if f.pruneIn != nil {
		f.pruneIn <- p
	}
	return f.prune, f.err
}

func (f *fake) Status(context.Context) (*Status, error) {
	return &Status{Share: ShareStats{Upstream: 3, Joined: 2, PerURL: map[string]int64{"http://127.0.0.1/x": 1}}, Cache: f.usage}, nil
}

// testPlan is a small valid plan.
func testPlan() *repo.Plan {
	return &repo.Plan{Family: repo.FamilyDeb, Distro: "debian:12", Arch: "amd64", Variant: repo.VariantBase,
		Indexes: []repo.Index{{Name: "bookworm", URL: "http://127.0.0.1:1/debian", Digest: strings.Repeat("a", 64), Date: "2026-01-01T00:00:00Z"}},
		Packages: []repo.Planned{
			{Name: "base-files", Version: "12.4+deb12u5", Arch: "amd64", Repository: "http://127.0.0.1:1/debian",
				Filename: "pool/main/b/base-files/base-files_12.4+deb12u5_amd64.deb", Size: 70000, SHA256: strings.Repeat("b", 64),
				InstalledSize: 400000, Essential: true, Priority: "required", Suite: "bookworm", Reason: "variant base"},
			{Name: "libc6", Version: "2.36-9+deb12u7", Arch: "amd64", Source: "glibc", SourceVersion: "2.36-9+deb12u7",
				Repository: "http://127.0.0.1:1/debian", Filename: "pool/main/g/glibc/libc6_2.36-9+deb12u7_amd64.deb",
				Size: 2700000, SHA256: strings.Repeat("c", 64), MultiArch: "same", Licence: "LGPL", Suite: "bookworm",
				Reason: "Depends of curl", Depends: []string{"libgcc-s1"}},
		}}
}

func testRequest() repo.Request {
	return repo.Request{Distro: "debian:12", Arch: "amd64", Packages: []string{"curl", "jq=1.6-2"}, Variant: repo.VariantBase,
		Components: []string{"main"}, Recommends: true,
		Sources: []repo.Source{{URL: "http://127.0.0.1:1/extra", Suite: "stable", Components: []string{"main"}, SignedBy: "/k.gpg", Arches: []string{"amd64"}}}}
}

// serve starts a Server of svc on a socket in a temporary directory and
// returns a client of it; both stop with the test.
func serve(t *testing.T, svc Service, opt ServerOptions) (*Server, *Client, context.CancelFunc) {
	t.Helper()
	dir, err := os.MkdirTemp("", "rootfsd-api-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "s.sock")
	ln, _, err := Listen(sock, ListenOptions{Group: -1})
	if err != nil {
		t.Fatal(err)
	}
	if opt.Policy.UID == 0 && opt.Policy.Groups == nil {
		opt.Policy.UID = uint32(os.Geteuid())
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	srv := NewServer(svc, opt)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln, 5*time.Second) }()
	c := Dial(sock)
	t.Cleanup(func() {
		c.Close()
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("server did not stop")
		}
	})
	return srv, c, cancel
}

// unixPair returns both ends of a connected unix socket.
func unixPair(t *testing.T) (server, client net.Conn) {
	t.Helper()
	dir := t.TempDir()
	ln, err := net.Listen("unix", filepath.Join(dir, "p.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	acc := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		acc <- c
	}()
	client, err = net.Dial("unix", filepath.Join(dir, "p.sock"))
	if err != nil {
		t.Fatal(err)
	}
	server = <-acc
	t.Cleanup(func() { server.Close(); client.Close() })
	return server, client
}
