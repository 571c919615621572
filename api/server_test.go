package api

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/google/go-cmp/cmp"

	"github.com/rootfsd/rootfsd/repo"
)

// collect is a Reporter that keeps what it gets.
type collect struct {
	mu     sync.Mutex
	events []repo.Event
}

func (c *collect) report(e repo.Event) {
	c.mu.Lock()
	c.events = append(c.events, e)
	c.mu.Unlock()
}

func TestRoundTrip(t *testing.T) {
	plan := testPlan()
	lock := repo.NewLock(testRequest(), plan)
	f := &fake{
		plan: plan, lock: lock,
		infos: []repo.PackageInfo{{Name: "curl", Version: "7.88.1-10", Arch: "amd64", Suite: "bookworm", Candidate: true,
			Filename: "pool/main/c/curl/curl_7.88.1-10_amd64.deb", Size: 315000, SHA256: strings.Repeat("d", 64),
			Fields: map[string]string{"Depends": "libc6"}, Description: "command line tool"}},
		result: &BuildResult{Lock: lock, LayerDigest: strings.Repeat("e", 64), LayerSize: 1 << 20, ImageID: "img",
			ManifestDigest: "sha256:" + strings.Repeat("f", 64), Outputs: []string{"tar:/tmp/x.tar"}, SBOM: []string{"/tmp/x.spdx.json"},
			Warnings: []string{"w1"}, Cached: true,
			Layers: []BuildLayer{{Digest: strings.Repeat("a", 64), Size: 10, Packages: []string{"libc6"}}, {Digest: strings.Repeat("b", 64), Size: 20}}},
		usage: &CacheUsage{Dir: "/c", Blobs: Count{3, 300}, Kinds: map[string]Count{"package": {2, 200}, "": {1, 100}}, MetaBytes: 4096},
		blobs: []Blob{{Digest: strings.Repeat("1", 64), Size: 10, Kind: "package", Name: "a.deb",
			Added: time.UnixMilli(1700000000123).UTC(), LastUsed: time.UnixMilli(1700000001000).UTC(), Refs: []string{"lock:x"}}},
		verify: &VerifyReport{Blobs: Count{3, 300}, Problems: []Problem{{Kind: "corrupt", Digest: strings.Repeat("2", 64), Repaired: true}}},
		prune:  &PruneReport{Freed: Count{1, 10}, Kept: Count{2, 290}},
		events: []repo.Event{{Kind: repo.EventIndex, Name: "bookworm", Current: 5, Total: 10}, {Kind: repo.EventDownload, Name: "curl", Message: "x", Cached: true}},
		gotReq: make(chan BuildRequest, 1), gotOpt: make(chan Options, 1), pruneIn: make(chan PruneOptions, 1),
	}
	_, c, _ := serve(t, f, ServerOptions{Version: "test-1", Socket: "/s", MaxBuilds: 2})
	ctx := context.Background()
	opt := Options{Mirror: "http://127.0.0.1:9/m", Offline: true, CacheDir: "/c", Keys: []string{"/k1.pub", "/k2.gpg"}}

	var ev collect
	gotPlan, err := c.Resolve(ctx, opt, testRequest(), ev.report)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(plan, gotPlan); d != "" {
		t.Errorf("plan (-want +got):\n%s", d)
	}
	if d := cmp.Diff(f.events, ev.events); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
	}

	gotLock, err := c.Lock(ctx, opt, testRequest(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(lock, gotLock); d != "" {
		t.Errorf("lock (-want +got):\n%s", d)
	}
	if gotLock.Digest() != lock.Digest() {
		t.Errorf("lock digest %s, want %s", gotLock.Digest(), lock.Digest())
	}

	infos, err := c.Show(ctx, opt, testRequest(), "curl", nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(f.infos, infos); d != "" {
		t.Errorf("show (-want +got):\n%s", d)
	}

	breq := BuildRequest{Request: testRequest(), Lock: lock, Outputs: []string{"tar:/tmp/x.tar", "docker://localhost/x"}, Tag: "t",
		Trim: "minimal", Scripts: true, Users: []string{"app:1000"}, Epoch: time.Unix(1700000000, 0).UTC(), Env: []string{"A=1"},
		Cmd: []string{"sh", "-c"}, Entrypoint: []string{"/init"}, WorkingDir: "/w", User: "app",
		Labels: map[string]string{"a": "b"}, Annotations: map[string]string{"c": "d"}, Layering: "groups"}
	res, err := c.Build(ctx, opt, breq, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(f.result, res); d != "" {
		t.Errorf("build result (-want +got):\n%s", d)
	}
	if d := cmp.Diff(breq, <-f.gotReq); d != "" {
		t.Errorf("build request as served (-sent +got):\n%s", d)
	}
	if d := cmp.Diff(opt, <-f.gotOpt); d != "" {
		t.Errorf("options as served (-sent +got):\n%s", d)
	}

	u, err := c.CacheStats(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(f.usage, u); d != "" {
		t.Errorf("usage (-want +got):\n%s", d)
	}
	bs, err := c.CacheList(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(f.blobs, bs); d != "" {
		t.Errorf("blobs (-want +got):\n%s", d)
	}
	vr, err := c.CacheVerify(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(f.verify, vr); d != "" {
		t.Errorf("verify (-want +got):\n%s", d)
	}
	po := PruneOptions{OlderThan: 48 * time.Hour, KeepReferenced: true, MaxBytes: 1 << 30, DryRun: true}
	pr, err := c.CachePrune(ctx, opt, po)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(f.prune, pr); d != "" {
		t.Errorf("prune (-want +got):\n%s", d)
	}
	if got := <-f.pruneIn; got != po {
		t.Errorf("prune options as served %+v, sent %+v", got, po)
	}

	st, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Daemon.Version != "test-1" || st.Daemon.Socket != "/s" || st.Daemon.MaxBuilds != 2 || st.Daemon.RSSBytes <= 0 || st.Daemon.Requests < 8 {
		t.Errorf("daemon status %+v", st.Daemon)
	}
	if st.Share.Upstream != 3 || st.Share.PerURL["http://127.0.0.1/x"] != 1 || st.Cache == nil || st.Cache.Dir != "/c" {
		t.Errorf("share/cache status %+v %+v", st.Share, st.Cache)
	}
	if ok, err := c.Health(ctx); err != nil || !ok {
		t.Errorf("health %v, %v", ok, err)
	}
	if v, a, err := c.Version(ctx); err != nil || v != "test-1" || a != APIVersion {
		t.Errorf("version %q %q %v", v, a, err)
	}
}

func TestErrorsKeepTheirType(t *testing.T) {
	unsat := &repo.UnsatisfiableError{Request: []string{"curl"}, Chain: []string{"curl Depends libcurl4 (= 8)", "libcurl4 has only 7"}}
	unknown := &repo.UnknownPackageError{Name: "crul", Where: "debian:12 main", Suggestions: []string{"curl"}}
	tests := []struct {
		name     string
		err      error
		code     connect.Code
		match    func(error) bool
		wantText string
	}{
		{"unsatisfiable", errorsJoin("deb: resolve", unsat), connect.CodeFailedPrecondition,
			func(err error) bool {
				var e *repo.UnsatisfiableError
				return errors.As(err, &e) && e.Chain[1] == "libcurl4 has only 7"
			}, ""},
		{"unknown", unknown, connect.CodeNotFound,
			func(err error) bool {
				var e *repo.UnknownPackageError
				return errors.As(err, &e) && e.Suggestions[0] == "curl"
			}, ""},
		{"other cache", errorsJoin("cache /x", ErrOtherCache), connect.CodeFailedPrecondition,
			func(err error) bool { return errors.Is(err, ErrOtherCache) }, ""},
		{"plain", errors.New("deb: Packages for noble/main: sha256 mismatch"), connect.CodeUnknown,
			func(err error) bool { return true }, "deb: Packages for noble/main: sha256 mismatch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, c, _ := serve(t, &fake{err: tt.err}, ServerOptions{})
			_, err := c.Resolve(context.Background(), Options{}, testRequest(), nil)
			var re *RemoteError
			if !errors.As(err, &re) {
				t.Fatalf("error %T %v, want *RemoteError", err, err)
			}
			if re.Code != tt.code {
				t.Errorf("code %v, want %v", re.Code, tt.code)
			}
			if err.Error() != tt.err.Error() {
				t.Errorf("text %q, want the service's %q", err.Error(), tt.err.Error())
			}
			if !tt.match(err) {
				t.Errorf("typed error lost: %#v", re)
			}
		})
	}
}

func errorsJoin(prefix string, err error) error { return &wrapped{prefix, err} }

type wrapped struct {
	p   string
	err error
}

func (w *wrapped) Error() string { return w.p + ": " + w.err.Error() }
func (w *wrapped) Unwrap() error { return w.err }

// A client that goes away cancels its own request, and only that one.
func TestClientCancelCancelsOnlyItsRequest(t *testing.T) {
	f := &fake{result: &BuildResult{LayerDigest: "x"}, block: make(chan struct{}), started: make(chan struct{}, 2), gotCtx: make(chan error, 2)}
	_, c, _ := serve(t, f, ServerOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 2)
	go func() { _, err := c.Build(ctx, Options{}, BuildRequest{}, nil); errc <- err }()
	<-f.started
	c2 := Dial(c.Socket())
	defer c2.Close()
	go func() { _, err := c2.Build(context.Background(), Options{}, BuildRequest{}, nil); errc <- err }()
	<-f.started
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled client: %v", err)
	}
	if err := <-f.gotCtx; !errors.Is(err, context.Canceled) {
		t.Errorf("server side of the cancelled request: ctx %v, want canceled", err)
	}
	close(f.block)
	if err := <-errc; err != nil {
		t.Errorf("other client: %v", err)
	}
	if err := <-f.gotCtx; err != nil {
		t.Errorf("other request's ctx: %v", err)
	}
}

func TestRefusedPeer(t *testing.T) {
	// The daemon serves another uid only: this test's process is refused
	// by its SO_PEERCRED credentials, on every service.
	_, c, _ := serve(t, &fake{plan: testPlan()}, ServerOptions{Policy: Policy{UID: 4242424}})
	_, err := c.Resolve(context.Background(), Options{}, testRequest(), nil)
	var re *RemoteError
	if !errors.As(err, &re) || re.Code != connect.CodePermissionDenied || !strings.Contains(err.Error(), "not allowed") {
		t.Fatalf("got %v, want permission denied", err)
	}
	if _, err := c.Health(context.Background()); !errors.As(err, &re) || re.Code != connect.CodePermissionDenied {
		t.Errorf("health: %v, want permission denied", err)
	}
}
