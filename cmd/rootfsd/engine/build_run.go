package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rootfsd/rootfsd/repo"
	"github.com/rootfsd/rootfsd/repo/check"
	"github.com/rootfsd/rootfsd/repo/fstree"
	"github.com/rootfsd/rootfsd/repo/layering"
	"github.com/rootfsd/rootfsd/repo/overlay"
	"github.com/rootfsd/rootfsd/store"
)

// layerFormat versions everything that decides a layer's bytes besides the
// lock: bump it when assembling or tar writing changes.
const layerFormat = "rootfsd-layer-v3" // v2: SBOMs in var/lib/rootfsd; v3: Alpine /etc/os-release without alpine-release

// parallelDownloads bounds concurrent package downloads of one build.
const parallelDownloads = 8

// Build resolves (or takes the lock), fetches, assembles and writes the
// requested outputs. A layer already built for the same lock and options
// is reused from the cache. A request with Platforms builds one image per
// architecture (platforms.go).
func (e *Engine) Build(ctx context.Context, req BuildRequest, rep repo.Reporter) (*BuildResult, error) {
	if len(req.Platforms) > 0 {
		return e.buildPlatforms(ctx, req, rep)
	}
	outs, err := parseOutputs(req)
	if err != nil {
		return nil, err
	}
	tee := newTarTee(outs) // build_tee.go
	defer tee.discard()
	b, err := e.buildArch(ctx, req, outs, tee, rep)
	if err != nil {
		return nil, err
	}
	var layers []ImageLayer
	if imageOutput(outs) {
		if layers, err = e.imageLayers(ctx, b.st, b.layer, b.lock, req, rep); err != nil { // layers.go
			return nil, err
		}
		b.res.Layers = layers
	}
	for _, o := range outs {
		if o.kind == "tar" && !b.res.Cached && tee.commit(o.dest, b.layer.Size) {
			rep.Report(repo.Event{Kind: repo.EventCommit, Message: "wrote " + o.String()})
		} else if err := e.writeOutput(ctx, b.st, o, b.layer, layers, b.lock, req, b.epoch, b.res, rep); err != nil {
			return nil, err
		}
		b.res.Outputs = append(b.res.Outputs, o.String())
	}
	e.pushCompressedLayer(ctx, b.st, b.rc.to, b.layer, rep, b.res) // remote_gzip.go
	_ = b.st.Flush(ctx)
	rep.Report(repo.Event{Kind: repo.EventDone, Message: fmt.Sprintf("%d packages, layer %s", len(b.lock.Packages), humanSize(b.layer.Size))})
	return b.res, nil
}

// archBuild is the layer of one architecture, before its outputs.
type archBuild struct {
	st    *store.Store
	rc    remoteCaches
	lock  *repo.Lock
	layer store.LayerRecord
	epoch time.Time
	res   *BuildResult
}

// buildArch resolves (or takes the lock of) req and returns its layer,
// from the cache, the registry cache or built. outs, when given, are the
// build's outputs: when they all take the image's gzip layer, a registry
// cache may serve that alone. tee, when not nil, receives the layer's tar
// as it is built (not when it comes from a cache).
func (e *Engine) buildArch(ctx context.Context, req BuildRequest, outs []output, tee *tarTee, rep repo.Reporter) (*archBuild, error) {
	if err := layering.Check(req.Layering); err != nil {
		return nil, err
	}
	if err := checkScripts(req); err != nil { // platforms.go
		return nil, err
	}
	lock := req.Lock
	var err error
	if lock == nil {
		if lock, err = e.Lock(ctx, req.Request, rep); err != nil {
			return nil, err
		}
	}
	d, err := repo.LookupDistro(lock.Distro)
	if err != nil {
		return nil, err
	}
	st, err := e.Store()
	if err != nil {
		return nil, err
	}
	epoch := req.Epoch
	if epoch.IsZero() {
		epoch = lockEpoch(lock)
	}
	key := layerKey(lock, req, epoch)
	res := &BuildResult{Lock: lock}
	rc, err := e.remoteCaches() // remote.go
	if err != nil {
		return nil, err
	}
	layer, err := st.Layer(ctx, key)
	if err == nil && st.Has(layer.Digest) {
		res.Cached = true
		rep.Report(repo.Event{Kind: repo.EventLayer, Message: "layer " + layer.Digest[:12] + " from cache", Cached: true})
	} else if rec, ok := e.pullCompressedLayer(ctx, st, rc.from, key, lock.Distro, outs, req.Layering, rep, res); ok {
		// Only the image's gzip layer: no tar, no compression.
		layer, res.Cached = rec, true
	} else if rec, ok := e.pullLayer(ctx, st, rc.from, key, lock.Distro, rep, res); ok {
		// Keyed by the lock's digest: the lock is the trust anchor.
		layer, res.Cached = rec, true
	} else {
		var built *BuildResult // the warnings and tree check of this call's build, if it ran it
		layer, _, err = Shared(ctx, e.cfg.Share, "layer\x00"+key, func(ctx context.Context) (store.LayerRecord, error) {
			built = &BuildResult{}
			return e.buildLayer(ctx, d, lock, req, epoch, key, rc, tee, rep, built)
		})
		if err != nil {
			return nil, err
		}
		if built != nil {
			res.Warnings = append(res.Warnings, built.Warnings...)
			res.TreeFindings, res.TreeChecked = built.TreeFindings, built.TreeChecked
		}
	}
	if st.Has(layer.Digest) {
		e.pushLayer(ctx, st, rc.to, layer, rep, res)
	}
	res.LayerDigest, res.LayerSize = layer.Digest, layer.Size
	return &archBuild{st: st, rc: rc, lock: lock, layer: layer, epoch: epoch, res: res}, nil
}

// lockEpoch is the newest index date of the lock: a build from a lock is
// reproducible without SOURCE_DATE_EPOCH.
func lockEpoch(l *repo.Lock) time.Time {
	var newest time.Time
	for _, ix := range l.Indexes {
		if t, err := time.Parse(time.RFC3339, ix.Date); err == nil && t.After(newest) {
			newest = t
		}
	}
	if newest.IsZero() {
		return time.Unix(0, 0).UTC()
	}
	return newest.UTC()
}

// layerKey is the cache key of a layer: the lock's digest and every option
// that changes the tree.
func layerKey(l *repo.Lock, req BuildRequest, epoch time.Time) string {
	users := append([]string(nil), req.Users...)
	sort.Strings(users)
	trim := req.Trim
	if trim == "" {
		trim = defaultTrim
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\ntrim=%s\nscripts=%v\nusers=%s\nepoch=%d\noverlay=%s\n", layerFormat, l.Digest(), trim, req.Scripts, strings.Join(users, ","), epoch.Unix(), req.Overlay.Digest())
	return hex.EncodeToString(h.Sum(nil))
}

const defaultTrim = "docs"

// fetchAll downloads every package of the lock, in parallel, and returns
// their digests in the cache by package ID.
func (e *Engine) fetchAll(ctx context.Context, pf repo.PackageFetcher, l *repo.Lock, rep repo.Reporter) (map[string]string, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		digests  = map[string]string{}
		firstErr error
		wg       sync.WaitGroup
		sem      = make(chan struct{}, parallelDownloads)
	)
	for _, p := range l.Packages {
		wg.Add(1)
		go func(p repo.Planned) {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-sem }()
			d, err := pf.FetchPackage(ctx, p)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = err
					cancel()
				}
				return
			}
			digests[p.ID()] = d
		}(p)
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return digests, nil
}

// buildLayer fetches, assembles and stores the layer tar.
func (e *Engine) buildLayer(ctx context.Context, d *repo.Distro, l *repo.Lock, req BuildRequest, epoch time.Time, key string, rc remoteCaches, tee *tarTee, rep repo.Reporter, res *BuildResult) (store.LayerRecord, error) {
	st, _ := e.Store()
	b, err := e.backend(d, rep)
	if err != nil {
		return store.LayerRecord{}, err
	}
	pf, ok := b.(repo.PackageFetcher)
	if !ok {
		return store.LayerRecord{}, fmt.Errorf("%s: this backend cannot fetch packages", d.Name())
	}
	if req.Lock != nil {
		if err := checkLock(ctx, b, l, rep); err != nil { // lockcheck.go
			if !rc.lockCheckMaySkip(l, err) { // remote.go
				return store.LayerRecord{}, err
			}
			warn(rep, res, fmt.Sprintf("lock check skipped: the mirror is unreachable (%v); every package is verified against the lock's SHA256", err))
		}
	}
	pf = e.cfg.Share.Fetcher(rc.fetcher(pf, st, rep, res))
	t0 := time.Now()
	digests, err := e.fetchAll(ctx, pf, l, rep)
	if err != nil {
		return store.LayerRecord{}, err
	}
	e.pushPackages(ctx, st, rc.to, l, digests, rep, res)
	rep.Report(repo.Event{Kind: repo.EventDownload, Message: fmt.Sprintf("%d packages ready in %v", len(digests), time.Since(t0).Round(time.Millisecond))})
	tree := fstree.New(fstree.Options{})
	defer tree.Close()
	open := func(p repo.Planned) (io.ReadCloser, error) {
		dg, ok := digests[p.ID()]
		if !ok {
			return nil, fmt.Errorf("%s was not fetched", p.ID())
		}
		return st.Open(ctx, dg)
	}
	warnings, err := e.assemble(ctx, d, tree, l, open, req, epoch, rep)
	if err != nil {
		return store.LayerRecord{}, err
	}
	res.Warnings = append(res.Warnings, warnings...)
	if !req.Overlay.Empty() {
		if err := req.Overlay.Apply(tree, overlay.Options{Epoch: epoch}); err != nil {
			return store.LayerRecord{}, err
		}
	}
	if err := addSBOMs(tree, l, epoch); err != nil { // sbom_tree.go
		return store.LayerRecord{}, err
	}
	// The tree is final: the caller's check reads it while the layer is
	// written (both only read it), and the tree is closed after both.
	if req.TreeCheck != nil {
		checked := make(chan struct{})
		go func() {
			defer close(checked)
			findings, err := req.TreeCheck(ctx, check.TreeFS(tree), l)
			res.TreeFindings, res.TreeChecked = findings, err == nil
		}()
		defer func() { <-checked }()
	}
	// Stream the tar into the store, hashing it on the way.
	pr, pw := io.Pipe()
	go func() {
		err := tree.WriteTar(tee.writer(pw), fstree.TarOptions{Epoch: epoch})
		pw.CloseWithError(err)
	}()
	blob, err := st.PutBlob(ctx, pr, "", -1, store.Label{Kind: store.KindLayer, Name: l.Distro + " " + key[:12]})
	_ = pr.CloseWithError(errors.New("layer write ended"))
	if err != nil {
		return store.LayerRecord{}, fmt.Errorf("write layer: %w", err)
	}
	// The tree refers to file contents in cached files; one that changed
	// while the layer was written would have changed the layer.
	if err := tree.CheckRetained(); err != nil {
		return store.LayerRecord{}, fmt.Errorf("write layer: %w (another process wrote into the cache; build again)", err)
	}
	rec := store.LayerRecord{Key: key, Digest: blob.Digest, Size: blob.Size, DiffID: blob.Digest,
		MediaType: "application/vnd.oci.image.layer.v1.tar", Created: time.Now().UTC()}
	if err := st.SetLayer(ctx, rec); err != nil {
		return store.LayerRecord{}, err
	}
	rep.Report(repo.Event{Kind: repo.EventLayer, Message: fmt.Sprintf("layer %s (%s)", blob.Digest[:12], humanSize(blob.Size))})
	return rec, nil
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// copyBlobTo writes a blob to path atomically: nothing half-written is
// ever visible under path.
func copyBlobTo(ctx context.Context, st *store.Store, digest, path string) error {
	rc, err := st.OpenForCopy(ctx, digest)
	if err != nil {
		return err
	}
	defer rc.Close()
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	// The rename makes the output appear whole or not at all; it is a
	// build artefact, not cache state, so it is not fsynced (the layer in
	// the store, which is, was).
	if _, err := io.Copy(tmp, rc); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
