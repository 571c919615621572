package apk

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rootfsd/rootfsd/repo"
	"github.com/rootfsd/rootfsd/repo/fstree"
	"github.com/rootfsd/rootfsd/repo/repotest"
)

// countingServer serves the fixtures and counts requests by path.
type countingServer struct {
	*httptest.Server
	full atomic.Int64 // 200 answers
}

func serveCounting(t *testing.T) *countingServer {
	cs := &countingServer{}
	fs := http.FileServer(http.Dir(fixturesDir(t)))
	cs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Count when the status is written, before the client can see the
		// response: counting after ServeHTTP would race with the client.
		fs.ServeHTTP(&statusRecorder{ResponseWriter: w, onStatus: func(code int) {
			if code == http.StatusOK {
				cs.full.Add(1)
			}
		}}, r)
	}))
	t.Cleanup(cs.Close)
	return cs
}

type statusRecorder struct {
	http.ResponseWriter
	status   int
	onStatus func(int)
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
		s.onStatus(code)
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.WriteHeader(http.StatusOK)
	}
	return s.ResponseWriter.Write(b)
}

func testBackend(srv *httptest.Server, cache repo.Cache, paths ...string) *Backend {
	b := &Backend{Arch: "x86_64", Cache: cache, Client: srv.Client(), Distro: "alpine:3.19"}
	b.Fetcher = &repo.Fetcher{Client: srv.Client(), Cache: cache, Retries: -1}
	for _, p := range paths {
		b.Repositories = append(b.Repositories, repo.Source{URL: srv.URL + "/" + p})
	}
	return b
}

func TestBackendResolve(t *testing.T) {
	srv := serveCounting(t)
	cache := repotest.NewMemCache()
	b := testBackend(srv.Server, cache, "v3.19.1-iso/apks")
	plan, err := b.Resolve(context.Background(), repo.Request{Distro: "alpine:3.19", Arch: "amd64",
		Packages: []string{"alpine-base"}, Variant: repo.VariantCustom})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Family != repo.FamilyAPK || plan.Arch != "x86_64" || len(plan.Packages) != 25 {
		t.Fatalf("plan: family %s arch %s, %d packages", plan.Family, plan.Arch, len(plan.Packages))
	}
	idx := readFixture(t, isoRepo+"/APKINDEX.tar.gz")
	sum := sha256.Sum256(idx)
	wantIndex := repo.Index{Name: "v3.19.1-iso/apks/x86_64", URL: srv.URL + "/v3.19.1-iso/apks/x86_64/APKINDEX.tar.gz",
		Digest: hex.EncodeToString(sum[:]), Date: "2023-12-27T12:33:" + plan.Indexes[0].Date[len("2023-12-27T12:33:"):]}
	if diff := cmp.Diff([]repo.Index{wantIndex}, plan.Indexes); diff != "" {
		t.Errorf("indexes (-want +got):\n%s", diff)
	}
	bb := plan.Find("busybox")
	want := repo.Planned{Name: "busybox", Version: "1.36.1-r15", Arch: "x86_64", Source: "busybox", SourceVersion: "1.36.1-r15",
		Repository: srv.URL + "/v3.19.1-iso/apks", Filename: "x86_64/busybox-1.36.1-r15.apk", Size: 506796,
		Checksum: "Q1AYNx2pLOAHRYZQgv3nM8TNtvRWY=", InstalledSize: bb.InstalledSize, Licence: "GPL-2.0-only",
		Suite: "v3.19.1-iso/apks/x86_64", Reason: "depends of alpine-base (busybox)", Depends: []string{"musl"}}
	if diff := cmp.Diff(want, *bb); diff != "" {
		t.Errorf("busybox (-want +got):\n%s", diff)
	}
	if plan.TotalSize() != 3654813 {
		t.Errorf("total size %d, want 3654813", plan.TotalSize())
	}
	// Install order: every package after its dependencies.
	pos := map[string]int{}
	for i, p := range plan.Packages {
		pos[p.Name] = i
	}
	if pos["musl"] > pos["busybox"] || pos["busybox"] > pos["busybox-binsh"] || pos["alpine-base"] != len(plan.Packages)-1 {
		t.Errorf("install order: %v", pos)
	}

	// A second resolution revalidates the index: no full download.
	before := srv.full.Load()
	if _, err := b.Resolve(context.Background(), repo.Request{Packages: []string{"busybox"}, Variant: repo.VariantCustom}); err != nil {
		t.Fatal(err)
	}
	if n := srv.full.Load() - before; n != 0 {
		t.Errorf("second resolve downloaded %d files", n)
	}
}

func TestBackendVariants(t *testing.T) {
	srv := serveCounting(t)
	b := testBackend(srv.Server, repotest.NewMemCache(), "v3.19/main")
	plan, err := b.Resolve(context.Background(), repo.Request{Packages: []string{"jq"}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range plan.Packages {
		got = append(got, p.Name+" "+p.Reason)
	}
	// apk-tools sorts the world by name: alpine-baselayout-data comes first.
	want := []string{
		"alpine-baselayout-data variant base",
		"musl depends of jq (so:libc.musl-x86_64.so.1)", "oniguruma depends of jq (so:libonig.so.5)",
		"jq requested",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("base variant (-want +got):\n%s", diff)
	}
	if _, err := b.Resolve(context.Background(), repo.Request{Packages: []string{"jq"}, Variant: repo.VariantApt}); err == nil {
		t.Error("apt variant accepted")
	}
	// An extra repository is verified with the trusted keys, as apk does.
	if _, err := b.Resolve(context.Background(), repo.Request{Packages: []string{"jq"},
		Sources: []repo.Source{{URL: srv.URL + "/v3.19/community"}}}); err != nil {
		t.Errorf("extra repository signed by a trusted key: %v", err)
	}
	// The v3.17 aarch64 index is signed by a key outside the x86_64 set.
	b2 := testBackend(srv.Server, repotest.NewMemCache())
	if b2.Keys, err = DefaultKeyring("x86_64"); err != nil {
		t.Fatal(err)
	}
	_, err = b2.Resolve(context.Background(), repo.Request{Packages: []string{"busybox"}, Arch: "aarch64",
		Sources: []repo.Source{{URL: srv.URL + "/v3.17/main"}}})
	if err == nil || !strings.Contains(err.Error(), "616ae350") {
		t.Errorf("repository signed by an untrusted key: %v", err)
	}
}

func TestBackendMainCommunity(t *testing.T) {
	srv := serveCounting(t)
	b := testBackend(srv.Server, repotest.NewMemCache(), "v3.19/main", "v3.19/community")
	plan, err := b.Resolve(context.Background(), repo.Request{Packages: []string{"neovim"}, Variant: repo.VariantCustom})
	if err != nil {
		t.Fatal(err)
	}
	community := 0
	for _, p := range plan.Packages {
		if strings.HasSuffix(p.Repository, "/v3.19/community") {
			community++
		}
	}
	if len(plan.Packages) != 12 || community != 7 {
		t.Errorf("neovim: %d packages, %d from community", len(plan.Packages), community)
	}
}

// Resolve, download and install the minirootfs world over HTTP.
func TestBackendInstall(t *testing.T) {
	srv := serveCounting(t)
	cache := repotest.NewMemCache()
	b := testBackend(srv.Server, cache, "v3.19.1-iso/apks")
	req := repo.Request{Packages: minirootfsWorld, Variant: repo.VariantBase}
	plan, err := b.Resolve(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	tree := fstree.New(fstree.Options{TempDir: t.TempDir()})
	defer tree.Close()
	res, err := b.Install(context.Background(), req, plan, tree)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Installed) != 15 || len(res.Warnings) != 0 {
		t.Errorf("%d installed, warnings %v", len(res.Installed), res.Warnings)
	}
	world, _ := tree.ReadFile("etc/apk/world")
	if string(world) != "alpine-baselayout\nalpine-keys\napk-tools\nbusybox\nlibc-utils\nalpine-baselayout-data\n" {
		t.Errorf("world %q", world)
	}
	repos, _ := tree.ReadFile("etc/apk/repositories")
	if string(repos) != srv.URL+"/v3.19.1-iso/apks\n" {
		t.Errorf("repositories %q", repos)
	}
	// Installing again takes every package from the cache.
	before := srv.full.Load()
	tree2 := fstree.New(fstree.Options{TempDir: t.TempDir()})
	defer tree2.Close()
	if _, err := b.Install(context.Background(), req, plan, tree2); err != nil {
		t.Fatal(err)
	}
	if n := srv.full.Load() - before; n != 0 {
		t.Errorf("second install downloaded %d files", n)
	}
}

// A package the repository does not have answers 404.
func TestBackendInstall404(t *testing.T) {
	srv := serveCounting(t)
	b := testBackend(srv.Server, repotest.NewMemCache(), "v3.19/main")
	req := repo.Request{Packages: []string{"busybox"}, Variant: repo.VariantCustom}
	plan, err := b.Resolve(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	tree := fstree.New(fstree.Options{TempDir: t.TempDir()})
	defer tree.Close()
	_, err = b.Install(context.Background(), req, plan, tree)
	if !errors.Is(err, repo.ErrNotFound) {
		t.Fatalf("got %v, want ErrNotFound", err)
	}
	if !strings.Contains(err.Error(), "busybox-1.36.1-r19") {
		t.Errorf("error does not name the package: %v", err)
	}
}
