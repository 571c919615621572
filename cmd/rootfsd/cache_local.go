package main

import (
	"context"

	"github.com/rootfsd/rootfsd/api"
	"github.com/rootfsd/rootfsd/store"
)

// cacheService is what the cache commands run: the store in-process, or
// the daemon's.
type cacheService interface {
	CacheStats(ctx context.Context, opt api.Options) (*api.CacheUsage, error)
	CacheList(ctx context.Context, opt api.Options) ([]api.Blob, error)
	CacheVerify(ctx context.Context, opt api.Options) (*api.VerifyReport, error)
	CachePrune(ctx context.Context, opt api.Options, p api.PruneOptions) (*api.PruneReport, error)
}

// localCache runs the cache operations on a store; the daemon serves the
// same code.
type localCache struct {
	open func() (*store.Store, error)
}

func (l localCache) CacheStats(ctx context.Context, _ api.Options) (*api.CacheUsage, error) {
	st, err := l.open()
	if err != nil {
		return nil, err
	}
	u, err := st.Usage(ctx)
	if err != nil {
		return nil, err
	}
	out := &api.CacheUsage{Dir: st.Dir(), Blobs: count(u.Blobs), Kinds: map[string]api.Count{}, Referenced: count(u.Referenced),
		Temp: count(u.Temp), Quarantine: count(u.Quarantine), MetaBytes: u.MetaBytes}
	for k, c := range u.Kinds {
		out.Kinds[k] = count(c)
	}
	return out, nil
}

func (l localCache) CacheList(ctx context.Context, _ api.Options) ([]api.Blob, error) {
	st, err := l.open()
	if err != nil {
		return nil, err
	}
	bs, err := st.List(ctx)
	if err != nil {
		return nil, err
	}
	return blobs(bs), nil
}

func (l localCache) CacheVerify(ctx context.Context, _ api.Options) (*api.VerifyReport, error) {
	st, err := l.open()
	if err != nil {
		return nil, err
	}
	r, err := st.Verify(ctx)
	if err != nil {
		return nil, err
	}
	out := &api.VerifyReport{Blobs: count(r.Blobs), TempRemoved: count(r.TempRemoved)}
	for _, p := range r.Problems {
		out.Problems = append(out.Problems, api.Problem{Kind: string(p.Kind), Digest: p.Digest, Key: p.Key, Detail: p.Detail, Repaired: p.Repaired})
	}
	return out, nil
}

func (l localCache) CachePrune(ctx context.Context, _ api.Options, p api.PruneOptions) (*api.PruneReport, error) {
	st, err := l.open()
	if err != nil {
		return nil, err
	}
	r, err := st.Prune(ctx, store.PruneOptions{OlderThan: p.OlderThan, KeepReferenced: p.KeepReferenced, MaxBytes: p.MaxBytes, All: p.All, DryRun: p.DryRun})
	if err != nil {
		return nil, err
	}
	return &api.PruneReport{Removed: blobs(r.Removed), Freed: count(r.Freed), Kept: count(r.Kept), Temp: count(r.Temp), Quarantine: count(r.Quarantine)}, nil
}

func count(c store.Count) api.Count { return api.Count{Files: c.Files, Bytes: c.Bytes} }

func blobs(bs []store.Blob) []api.Blob {
	var out []api.Blob
	for _, b := range bs {
		out = append(out, api.Blob{Digest: b.Digest, Size: b.Size, Kind: b.Kind, Name: b.Name, Added: b.Added, LastUsed: b.LastUsed, Refs: b.Refs})
	}
	return out
}

// cacheService returns the daemon's cache when one answers (and serves the
// same cache), the local store otherwise.
func (g *globals) cacheService() (cacheService, error) {
	c, err := g.client()
	if err != nil {
		return nil, err
	}
	local := localCache{open: func() (*store.Store, error) { return g.engine().Store() }}
	if c == nil {
		return local, nil
	}
	if g.daemon.mode == "always" {
		return c, nil
	}
	return autoCache{c: c, local: local}, nil
}

// autoCache falls back to the local store as auto does for builds.
type autoCache struct {
	c     *api.Client
	local localCache
}

func (a autoCache) CacheStats(ctx context.Context, o api.Options) (*api.CacheUsage, error) {
	u, err := a.c.CacheStats(ctx, o)
	if fallback(err, false) {
		return a.local.CacheStats(ctx, o)
	}
	return u, err
}

func (a autoCache) CacheList(ctx context.Context, o api.Options) ([]api.Blob, error) {
	bs, err := a.c.CacheList(ctx, o)
	if fallback(err, false) {
		return a.local.CacheList(ctx, o)
	}
	return bs, err
}

func (a autoCache) CacheVerify(ctx context.Context, o api.Options) (*api.VerifyReport, error) {
	r, err := a.c.CacheVerify(ctx, o)
	if fallback(err, false) {
		return a.local.CacheVerify(ctx, o)
	}
	return r, err
}

func (a autoCache) CachePrune(ctx context.Context, o api.Options, p api.PruneOptions) (*api.PruneReport, error) {
	r, err := a.c.CachePrune(ctx, o, p)
	if fallback(err, false) {
		return a.local.CachePrune(ctx, o, p)
	}
	return r, err
}
