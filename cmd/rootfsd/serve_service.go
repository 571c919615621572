package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/rootfsd/rootfsd/api"
	"github.com/rootfsd/rootfsd/cmd/rootfsd/engine"
	"github.com/rootfsd/rootfsd/repo"
)

// daemonService is the api.Service the daemon serves: engines over one
// cache and one Share, one engine per set of client options.
type daemonService struct {
	base     engine.Config
	cacheDir string
	share    *engine.Share
	builds   chan struct{}

	mu      sync.Mutex
	engines map[string]*engine.Engine
}

var _ api.Service = (*daemonService)(nil)

// maxEngines bounds the option sets a daemon keeps engines for.
const maxEngines = 32

// engine returns the engine for a client's options, refusing another cache.
func (d *daemonService) engine(opt api.Options) (*engine.Engine, error) {
	if opt.CacheDir != "" && filepath.Clean(opt.CacheDir) != d.cacheDir {
		return nil, fmt.Errorf("cache %s: %w (%s)", opt.CacheDir, api.ErrOtherCache, d.cacheDir)
	}
	cfg := d.base
	if opt.Mirror != "" {
		cfg.Mirrors.Mirror = opt.Mirror
	}
	if opt.SecurityMirror != "" {
		cfg.Mirrors.SecurityMirror = opt.SecurityMirror
	}
	cfg.Offline = cfg.Offline || opt.Offline
	if len(opt.Keys) > 0 {
		cfg.Keys = opt.Keys
	}
	k, _ := json.Marshal([]any{cfg.Mirrors, cfg.Offline, cfg.Keys})
	d.mu.Lock()
	defer d.mu.Unlock()
	if e, ok := d.engines[string(k)]; ok {
		return e, nil
	}
	e := engine.New(cfg)
	if len(d.engines) < maxEngines {
		d.engines[string(k)] = e
	}
	return e, nil
}

func (d *daemonService) defaultEngine() *engine.Engine {
	e, _ := d.engine(api.Options{})
	return e
}

// ownUser refuses what would use the daemon's rights on a caller's
// behalf (writing files, reading key files) unless the caller is the
// daemon's own user: a member of an allowed group runs that in-process.
func ownUser(ctx context.Context, opt api.Options, req repo.Request, outputs []string) error {
	p, ok := api.PeerFrom(ctx)
	if ok && p.UID == uint32(os.Geteuid()) {
		return nil
	}
	if len(opt.Keys) > 0 {
		return fmt.Errorf("--keyring: %w", api.ErrRunLocally)
	}
	for _, s := range req.Sources {
		if s.SignedBy != "" {
			return fmt.Errorf("--source with signed-by: %w", api.ErrRunLocally)
		}
	}
	for _, o := range outputs {
		if o != "containers-storage" && !strings.HasPrefix(o, "docker://") {
			return fmt.Errorf("--output %s: %w", o, api.ErrRunLocally)
		}
	}
	return nil
}

func (d *daemonService) Build(ctx context.Context, opt api.Options, req api.BuildRequest, rep repo.Reporter) (*api.BuildResult, error) {
	if err := ownUser(ctx, opt, req.Request, req.Outputs); err != nil {
		return nil, err
	}
	if req.Tag != "" {
		if p, ok := api.PeerFrom(ctx); !ok || p.UID != uint32(os.Geteuid()) {
			return nil, fmt.Errorf("--tag: %w", api.ErrRunLocally)
		}
	}
	e, err := d.engine(opt)
	if err != nil {
		return nil, err
	}
	select {
	case d.builds <- struct{}{}:
	default:
		rep.Report(repo.Event{Kind: repo.EventResolve, Message: fmt.Sprintf("waiting for a build slot (%d running)", cap(d.builds))})
		select {
		case d.builds <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	defer func() { <-d.builds }()
	res, err := e.Build(ctx, buildFromAPI(req), rep)
	if err != nil {
		return nil, err
	}
	return resultToAPI(res), nil
}

func (d *daemonService) Resolve(ctx context.Context, opt api.Options, req repo.Request, rep repo.Reporter) (*repo.Plan, error) {
	if err := ownUser(ctx, opt, req, nil); err != nil {
		return nil, err
	}
	e, err := d.engine(opt)
	if err != nil {
		return nil, err
	}
	return e.Resolve(ctx, req, rep)
}

func (d *daemonService) Lock(ctx context.Context, opt api.Options, req repo.Request, rep repo.Reporter) (*repo.Lock, error) {
	if err := ownUser(ctx, opt, req, nil); err != nil {
		return nil, err
	}
	e, err := d.engine(opt)
	if err != nil {
		return nil, err
	}
	return e.Lock(ctx, req, rep)
}

func (d *daemonService) Show(ctx context.Context, opt api.Options, req repo.Request, name string, rep repo.Reporter) ([]repo.PackageInfo, error) {
	if err := ownUser(ctx, opt, req, nil); err != nil {
		return nil, err
	}
	e, err := d.engine(opt)
	if err != nil {
		return nil, err
	}
	return e.Show(ctx, req, name, rep)
}

// cache returns the store operations, after the same cache check.
func (d *daemonService) cache(opt api.Options) (localCache, error) {
	if _, err := d.engine(api.Options{CacheDir: opt.CacheDir}); err != nil {
		return localCache{}, err
	}
	return localCache{open: d.defaultEngine().Store}, nil
}

func (d *daemonService) CacheStats(ctx context.Context, opt api.Options) (*api.CacheUsage, error) {
	c, err := d.cache(opt)
	if err != nil {
		return nil, err
	}
	return c.CacheStats(ctx, opt)
}

func (d *daemonService) CacheList(ctx context.Context, opt api.Options) ([]api.Blob, error) {
	c, err := d.cache(opt)
	if err != nil {
		return nil, err
	}
	return c.CacheList(ctx, opt)
}

func (d *daemonService) CacheVerify(ctx context.Context, opt api.Options) (*api.VerifyReport, error) {
	c, err := d.cache(opt)
	if err != nil {
		return nil, err
	}
	return c.CacheVerify(ctx, opt)
}

func (d *daemonService) CachePrune(ctx context.Context, opt api.Options, p api.PruneOptions) (*api.PruneReport, error) {
	if peer, ok := api.PeerFrom(ctx); !ok || peer.UID != uint32(os.Geteuid()) {
		return nil, fmt.Errorf("cache prune: %w", api.ErrRunLocally)
	}
	c, err := d.cache(opt)
	if err != nil {
		return nil, err
	}
	return c.CachePrune(ctx, opt, p)
}

func (d *daemonService) Status(ctx context.Context) (*api.Status, error) {
	sh := d.share.Stats()
	st := &api.Status{Share: api.ShareStats{Upstream: sh.Upstream, Joined: sh.Joined, UpstreamBytes: sh.UpstreamBytes,
		InFlight: sh.InFlight, Work: sh.Work, WorkJoined: sh.WorkJoined, PerURL: sh.PerURL}}
	u, err := localCache{open: d.defaultEngine().Store}.CacheStats(ctx, api.Options{})
	if err == nil {
		st.Cache = u
	}
	return st, nil
}
