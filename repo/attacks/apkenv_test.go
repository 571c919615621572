package attacks_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rootfsd/rootfsd/apk"
	"github.com/rootfsd/rootfsd/apk/apktest"
	"github.com/rootfsd/rootfsd/repo"
	"github.com/rootfsd/rootfsd/repo/fstree"
	"github.com/rootfsd/rootfsd/store"
)

// apkEnv is one case's Alpine world: origin, proxy, store, backend.
type apkEnv struct {
	origin *httptest.Server
	proxy  *proxy
	store  *store.Store
	b      *apk.Backend
}

// newAPKEnv serves files (or, with files nil, the shared fixtures); repos
// are the repository paths below the mirror root, keys the trusted ones
// (nil: the embedded Alpine keys).
func newAPKEnv(t testing.TB, files map[string][]byte, keys *apk.Keyring, repos ...string) *apkEnv {
	t.Helper()
	var h http.Handler = http.FileServer(http.Dir(fixturesDir(t)))
	if files != nil {
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, ok := files[strings.TrimPrefix(r.URL.Path, "/")]
			if !ok {
				http.NotFound(w, r)
				return
			}
			w.Write(b)
		})
	}
	origin := httptest.NewServer(h)
	t.Cleanup(origin.Close)
	e := &apkEnv{origin: origin, proxy: newProxy(t, origin.URL)}
	var err error
	if e.store, err = store.Open(t.TempDir(), store.Options{}); err != nil {
		t.Fatal(err)
	}
	e.b = &apk.Backend{Arch: "x86_64", Keys: keys, Cache: e.store, Distro: "alpine:3.19",
		Fetcher: &repo.Fetcher{Client: e.proxy.Client(), Cache: e.store, Retries: -1,
			HeaderTimeout: time.Second, MinRate: 4096, RateWindow: 300 * time.Millisecond}}
	for _, r := range repos {
		e.b.Repositories = append(e.b.Repositories, repo.Source{URL: e.proxy.URL + "/" + r})
	}
	return e
}

func apkRequest(pkgs ...string) repo.Request {
	return repo.Request{Distro: "alpine:3.19", Arch: "x86_64", Packages: pkgs, Variant: repo.VariantCustom}
}

// build resolves and installs req as `rootfsd build` does for Alpine.
func (e *apkEnv) build(t testing.TB, req repo.Request) (*repo.Plan, *fstree.Tree, error) {
	t.Helper()
	plan, err := e.b.Resolve(ctx(t), req)
	if err != nil {
		return nil, nil, err
	}
	tree := fstree.New(fstree.Options{})
	t.Cleanup(func() { tree.Close() })
	_, err = e.b.Install(ctx(t), req, plan, tree)
	return plan, tree, err
}

// fixturesDir is the shared Alpine fixtures directory (see apktest.Dir).
func fixturesDir(t testing.TB) string { return apktest.FixturesDir(t) }
