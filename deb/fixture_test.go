package deb

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/rootfsd/rootfsd/deb/internal/debtest"
	"github.com/rootfsd/rootfsd/repo"
)

// testKeys are generated once per test binary: RSA generation costs.
type testKeySet struct {
	archive   *openpgp.Entity // RSA, signs with a subkey (an "automatic" key)
	release   *openpgp.Entity // Ed25519 primary (a "stable release" key)
	untrusted *openpgp.Entity
	expiring  *openpgp.Entity // Ed25519 with a signing subkey, expires 30 days after Epoch
}

var testKeys = sync.OnceValue(func() *testKeySet {
	gen := func(name string, opt debtest.KeyOptions) *openpgp.Entity {
		e, err := debtest.GenerateKey(name, opt)
		if err != nil {
			panic(err)
		}
		return e
	}
	return &testKeySet{
		archive:   gen("archive", debtest.KeyOptions{Algo: debtest.RSA, SigningSubkey: true}),
		release:   gen("release", debtest.KeyOptions{Algo: debtest.Ed25519}),
		untrusted: gen("untrusted", debtest.KeyOptions{Algo: debtest.Ed25519}),
		expiring:  gen("expiring", debtest.KeyOptions{Algo: debtest.Ed25519, SigningSubkey: true, Lifetime: 30 * 24 * time.Hour}),
	}
})

// Test times: keys are made at Epoch, repositories dated a day later and
// checked a day after that.
var (
	repoDate  = debtest.Epoch().Add(24 * time.Hour)
	testClock = debtest.Epoch().Add(48 * time.Hour)
)

// fixture is a signed repository served on 127.0.0.1, a cache and the
// Suite and options to fetch it with.
type fixture struct {
	t     *testing.T
	repo  *debtest.Repo
	srv   *debtest.Server
	cache *debtest.Cache
	suite Suite
	opt   FetchOptions
}

// newFixture builds a repository with suite "stable" (codename "trixie"),
// components main and contrib, signed by the archive and release keys,
// with by-hash; edit changes the description first.
func newFixture(t *testing.T, edit func(*debtest.Repo)) *fixture {
	t.Helper()
	k := testKeys()
	r := &debtest.Repo{
		Suite: "stable", Codename: "trixie", Date: repoDate, Arch: "amd64",
		Packages: map[string]string{"main": debtest.Packages(20), "contrib": debtest.Packages(3)},
		ByHash:   true,
		Signers:  []*openpgp.Entity{k.archive, k.release},
	}
	if edit != nil {
		edit(r)
	}
	fx := &fixture{t: t, repo: r, cache: debtest.NewCache(t)}
	fx.srv = debtest.Serve(t, nil)
	fx.rebuild()
	fx.suite = Suite{
		URL: fx.srv.URL + "/debian", Name: r.Suite, Components: []string{"main", "contrib"}, Arch: "amd64",
		Keyring: debtest.Trust(t, k.archive, k.release),
	}
	fx.opt = FetchOptions{
		Cache: fx.cache,
		Fetcher: &repo.Fetcher{
			Backoff: time.Millisecond, HeaderTimeout: 2 * time.Second,
			MinRate: 1000, RateWindow: 200 * time.Millisecond,
		},
		Now: func() time.Time { return testClock },
	}
	return fx
}

// rebuild serves r (after the test changed it) in place of the files.
func (fx *fixture) rebuild() {
	fx.t.Helper()
	files := fx.repo.Build(fx.t)
	prefixed := make(map[string][]byte, len(files))
	for p, b := range files {
		prefixed["debian/"+p] = b
	}
	fx.srv.SetFiles(prefixed)
}

func (fx *fixture) fetch() (*SuiteIndex, error) {
	return FetchSuite(context.Background(), fx.suite, fx.opt)
}

// path is where the server serves a file of the suite.
func (fx *fixture) path(rel string) string { return "debian/dists/" + fx.repo.Suite + "/" + rel }

// packagesPath is the served path of comp's Packages in compression ext,
// the by-hash one when the repository has by-hash, and its content.
func (fx *fixture) packagesPath(comp, ext string) (string, []byte) {
	fx.t.Helper()
	data := debtest.Compress(fx.t, ext, []byte(fx.repo.Packages[comp]))
	p := fx.repo.PackagesPath(comp) + ext
	if fx.repo.ByHash {
		p = comp + "/binary-" + fx.suite.Arch + "/by-hash/SHA256/" + debtest.Sum(data)
	}
	return fx.path(p), data
}
