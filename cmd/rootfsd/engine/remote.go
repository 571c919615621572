package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rootfsd/rootfsd/repo"
	"github.com/rootfsd/rootfsd/store"
	"github.com/rootfsd/rootfsd/store/remote"
)

// Limits on blobs pulled from a registry cache, which is untrusted.
const (
	maxRemoteLayer   = 16 << 30
	maxRemotePackage = 2 << 30
	layerMediaType   = "application/vnd.oci.image.layer.v1.tar"
	parallelPushes   = 4
)

// remoteCaches are the registry caches of a build: from is pulled on a
// miss, to is pushed after a build; either may be nil.
type remoteCaches struct {
	from, to *remote.Cache
}

// remoteCaches opens the --cache-from and --cache-to registries.
func (e *Engine) remoteCaches() (remoteCaches, error) {
	var rc remoteCaches
	opt := remote.Options{PlainHTTP: e.cfg.PlainHTTP, CAFiles: e.cfg.CacheCAFiles, Timeout: e.cfg.CacheTimeout}
	var err error
	if e.cfg.CacheFrom != "" {
		if rc.from, err = remote.New(e.cfg.CacheFrom, opt); err != nil {
			return rc, err
		}
	}
	if e.cfg.CacheTo != "" {
		if rc.to, err = remote.New(e.cfg.CacheTo, opt); err != nil {
			return rc, err
		}
	}
	return rc, nil
}

// fetcher wraps pf to try the registry cache first.
func (rc remoteCaches) fetcher(pf repo.PackageFetcher, st *store.Store, rep repo.Reporter, res *BuildResult) repo.PackageFetcher {
	if rc.from == nil {
		return pf
	}
	var mu sync.Mutex // fetches run in parallel
	return remoteFetcher{next: pf, from: rc.from, st: st, warn: func(msg string) {
		mu.Lock()
		defer mu.Unlock()
		warn(rep, res, msg)
	}, rep: rep}
}

// lockCheckMaySkip reports whether a failed lock check may be skipped:
// only with a registry cache, only when the mirror could not be reached
// (not when it disagreed), and only when every package is pinned by the
// lock's SHA256, which the store then checks for each file.
func (rc remoteCaches) lockCheckMaySkip(l *repo.Lock, err error) bool {
	return rc.from != nil && unreachable(err) && lockStandsAlone(l)
}

func warn(rep repo.Reporter, res *BuildResult, msg string) {
	rep.Report(repo.Event{Kind: repo.EventWarning, Message: msg})
	if res != nil {
		res.Warnings = append(res.Warnings, msg)
	}
}

// pullLayer looks for the layer of key in the registry cache. The blob is
// put into the store with the digest the manifest names, so what is kept
// is exactly what the registry vouched for; any failure is a warning and
// the caller builds the layer itself.
func (e *Engine) pullLayer(ctx context.Context, st *store.Store, from *remote.Cache, key, distro string, rep repo.Reporter, res *BuildResult) (store.LayerRecord, bool) {
	if from == nil {
		return store.LayerRecord{}, false
	}
	tag, err := remote.LayerTag(key)
	if err != nil {
		return store.LayerRecord{}, false
	}
	ent, rc, err := from.Pull(ctx, tag, maxRemoteLayer)
	if err != nil {
		if !errors.Is(err, remote.ErrNotFound) {
			warn(rep, res, fmt.Sprintf("%v: building the layer", err))
		}
		return store.LayerRecord{}, false
	}
	defer rc.Close()
	if ent.MediaType != layerMediaType {
		warn(rep, res, fmt.Sprintf("registry cache %s: layer %s has media type %q: building the layer", from, key[:12], ent.MediaType))
		return store.LayerRecord{}, false
	}
	blob, err := st.PutBlob(ctx, rc, ent.Digest, ent.Size, store.Label{Kind: store.KindLayer, Name: distro + " " + key[:12]})
	if err != nil {
		warn(rep, res, fmt.Sprintf("registry cache %s: layer %s refused: %v: building the layer", from, key[:12], err))
		return store.LayerRecord{}, false
	}
	rec := store.LayerRecord{Key: key, Digest: blob.Digest, Size: blob.Size, DiffID: blob.Digest,
		MediaType: layerMediaType, Created: time.Now().UTC()}
	if err := st.SetLayer(ctx, rec); err != nil {
		warn(rep, res, fmt.Sprintf("registry cache %s: %v: building the layer", from, err))
		return store.LayerRecord{}, false
	}
	rep.Report(repo.Event{Kind: repo.EventLayer, Message: "layer " + blob.Digest[:12] + " from " + from.String(), Cached: true})
	return rec, true
}

// pushLayer uploads a layer to the registry cache; a failure is a warning.
func (e *Engine) pushLayer(ctx context.Context, st *store.Store, to *remote.Cache, rec store.LayerRecord, rep repo.Reporter, res *BuildResult) {
	if to == nil {
		return
	}
	tag, err := remote.LayerTag(rec.Key)
	if err != nil {
		return
	}
	ent := remote.Entry{Digest: "sha256:" + rec.Digest, Size: rec.Size, MediaType: layerMediaType}
	if err := to.Push(ctx, tag, ent, func() (io.ReadCloser, error) { return st.Open(ctx, rec.Digest) }); err != nil {
		warn(rep, res, err.Error())
		return
	}
	rep.Report(repo.Event{Kind: repo.EventLayer, Message: "layer " + rec.Digest[:12] + " pushed to " + to.String()})
}

// pushPackages uploads the package files of l that carry a SHA256.
func (e *Engine) pushPackages(ctx context.Context, st *store.Store, to *remote.Cache, l *repo.Lock, digests map[string]string, rep repo.Reporter, res *BuildResult) {
	if to == nil {
		return
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		sem   = make(chan struct{}, parallelPushes)
	)
	for _, p := range l.Packages {
		d, ok := digests[p.ID()]
		tag, err := remote.PackageTag(p.SHA256)
		if !ok || err != nil || d != p.SHA256 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			ent := remote.Entry{Digest: "sha256:" + d, Size: p.Size}
			err := to.Push(ctx, tag, ent, func() (io.ReadCloser, error) { return st.Open(ctx, d) })
			mu.Lock()
			if err != nil && first == nil {
				first = err
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if first != nil {
		warn(rep, res, first.Error())
	}
}

// remoteFetcher tries the registry cache for a package file by the SHA256
// the signed index or lock gives, and the mirror when that fails.
type remoteFetcher struct {
	next repo.PackageFetcher
	from *remote.Cache
	st   *store.Store
	warn func(string)
	rep  repo.Reporter
}

func (f remoteFetcher) FetchPackage(ctx context.Context, p repo.Planned) (string, error) {
	if p.SHA256 == "" || f.st.Has(p.SHA256) {
		return f.next.FetchPackage(ctx, p)
	}
	tag, err := remote.PackageTag(p.SHA256)
	if err != nil {
		return f.next.FetchPackage(ctx, p)
	}
	ent, rc, err := f.from.Pull(ctx, tag, maxRemotePackage)
	if err != nil {
		if !errors.Is(err, remote.ErrNotFound) {
			f.warn(fmt.Sprintf("%v: %s from the mirror", err, p.Name))
		}
		return f.next.FetchPackage(ctx, p)
	}
	defer rc.Close()
	// The store checks the content against the trusted hash, not the
	// registry's: a changed blob or manifest is refused.
	blob, err := f.st.PutBlob(ctx, rc, p.SHA256, p.Size, store.Label{Kind: store.KindPackage, Name: path.Base(p.Filename)})
	if err != nil || ent.Digest != "sha256:"+p.SHA256 {
		f.warn(fmt.Sprintf("registry cache %s: %s %s refused (%v): from the mirror", f.from, p.Name, p.Version, err))
		return f.next.FetchPackage(ctx, p)
	}
	if err := f.st.SetPackage(ctx, store.NewPackageRecord(p, blob.Digest)); err != nil {
		return "", err
	}
	f.rep.Report(repo.Event{Kind: repo.EventDownload, Name: p.Name, Message: p.Name + " from " + f.from.String(), Cached: true})
	return blob.Digest, nil
}

// unreachable reports whether err is a failure to reach a server (refused,
// unresolvable, timed out), as opposed to a verification failure.
func unreachable(err error) bool {
	var ne net.Error
	var de *net.DNSError
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) ||
		errors.Is(err, syscall.ENETUNREACH) || errors.As(err, &de) ||
		(errors.As(err, &ne) && ne.Timeout()) || strings.Contains(err.Error(), "connection refused")
}

// lockStandsAlone reports whether every package of l is pinned by SHA256,
// so that fetching verifies each file against the lock alone.
func lockStandsAlone(l *repo.Lock) bool {
	for _, p := range l.Packages {
		if p.SHA256 == "" {
			return false
		}
	}
	return len(l.Packages) > 0
}
