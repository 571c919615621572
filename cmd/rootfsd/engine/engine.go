// Package engine is rootfsd's service: it turns requests into plans,
// locks, root filesystems and images by wiring the format packages (deb,
// apk) to the store. The daemon serves it over the API; the CLI runs it
// in-process when no daemon answers. It holds no global state: every
// directory, client and clock comes from Config.
package engine

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/rootfsd/rootfsd/deb"
	"github.com/rootfsd/rootfsd/repo"
	"github.com/rootfsd/rootfsd/store"
)

// Config configures an Engine.
type Config struct {
	// CacheDir is the store's root (store.DefaultDir() when empty).
	CacheDir string
	// Mirrors are the configured mirrors; discovery fills the rest.
	Mirrors repo.Mirrors
	// Offline resolves from cached indexes only.
	Offline bool
	// HTTP is the client for every download (http.DefaultClient when nil).
	HTTP *http.Client
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Keys are key files to trust instead of the embedded archive keys
	// (Debian: OpenPGP keyrings; Alpine: RSA public keys added to the
	// embedded ones).
	Keys []string
	// InsecureRegistry allows plain HTTP and unverified TLS for pushes
	// (test registries on 127.0.0.1).
	InsecureRegistry bool
	// Share, when set (the daemon), makes concurrent requests wait on one
	// download or layer build instead of repeating it.
	Share *Share
	// CacheFrom and CacheTo are registry caches (oci://HOST/REPO): layers
	// and package files are pulled from CacheFrom on a miss and pushed to
	// CacheTo after a build (remote.go).
	CacheFrom, CacheTo string
	// PlainHTTP speaks HTTP to a registry cache on a loopback address.
	PlainHTTP bool
	// CacheCAFiles are extra CAs (PEM) for the registry cache's TLS.
	CacheCAFiles []string
	// CacheTimeout bounds each registry cache request (30s when zero).
	CacheTimeout time.Duration
}

// Engine runs requests. It is safe for concurrent use.
type Engine struct {
	cfg Config

	mu    sync.Mutex
	store *store.Store
}

// New returns an engine; the store is opened on first use.
func New(cfg Config) *Engine {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.HTTP == nil {
		cfg.HTTP = http.DefaultClient
	}
	if cfg.Share != nil {
		cfg.HTTP = cfg.Share.Client(cfg.HTTP)
	}
	return &Engine{cfg: cfg}
}

// Store opens (once) and returns the engine's store.
func (e *Engine) Store() (*store.Store, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.store != nil {
		return e.store, nil
	}
	dir := e.cfg.CacheDir
	if dir == "" {
		var err error
		if dir, err = store.DefaultDir(); err != nil {
			return nil, err
		}
	}
	st, err := store.Open(dir, store.Options{Now: e.cfg.Now})
	if err != nil {
		return nil, fmt.Errorf("open cache %s: %w (choose another with --cache-dir)", dir, err)
	}
	e.store = st
	return st, nil
}

// backend returns the format backend for d.
func (e *Engine) backend(d *repo.Distro, rep repo.Reporter) (repo.Backend, error) {
	st, err := e.Store()
	if err != nil {
		return nil, err
	}
	fetcher := &repo.Fetcher{Client: e.cfg.HTTP, Cache: st, Reporter: rep}
	switch d.Family {
	case repo.FamilyDeb:
		b := &deb.Backend{Cache: st, Fetcher: fetcher, Mirrors: e.cfg.Mirrors, Offline: e.cfg.Offline, Now: e.cfg.Now, Reporter: rep}
		for _, k := range e.cfg.Keys {
			data, err := os.ReadFile(k)
			if err != nil {
				return nil, fmt.Errorf("--keyring: %w", err)
			}
			kr, err := deb.ReadKeyring(data)
			if err != nil {
				return nil, fmt.Errorf("--keyring %s: %w", k, err)
			}
			b.Keyring = append(b.Keyring, kr...)
		}
		return b, nil
	case repo.FamilyAPK:
		return e.apkBackend(d, fetcher, rep)
	}
	return nil, fmt.Errorf("no backend for %s", d.Family)
}

// Resolve resolves req into a plan.
func (e *Engine) Resolve(ctx context.Context, req repo.Request, rep repo.Reporter) (*repo.Plan, error) {
	d, err := repo.LookupDistro(req.Distro)
	if err != nil {
		return nil, err
	}
	b, err := e.backend(d, rep)
	if err != nil {
		return nil, err
	}
	rep.Report(repo.Event{Kind: repo.EventResolve, Message: "resolving " + d.Name()})
	plan, err := b.Resolve(ctx, req)
	if err != nil {
		return nil, err
	}
	rep.Report(repo.Event{Kind: repo.EventResolve, Message: fmt.Sprintf("%d packages", len(plan.Packages)), Current: int64(len(plan.Packages))})
	return plan, nil
}

// Lock resolves req and returns the lock.
func (e *Engine) Lock(ctx context.Context, req repo.Request, rep repo.Reporter) (*repo.Lock, error) {
	plan, err := e.Resolve(ctx, req, rep)
	if err != nil {
		return nil, err
	}
	return repo.NewLock(req, plan), nil
}

// Show describes every available version of a package.
func (e *Engine) Show(ctx context.Context, req repo.Request, name string, rep repo.Reporter) ([]repo.PackageInfo, error) {
	d, err := repo.LookupDistro(req.Distro)
	if err != nil {
		return nil, err
	}
	b, err := e.backend(d, rep)
	if err != nil {
		return nil, err
	}
	s, ok := b.(repo.Shower)
	if !ok {
		return nil, fmt.Errorf("show is not supported for %s", d.Name())
	}
	return s.Show(ctx, req, name)
}
