package apk

import (
	"context"
	"fmt"
	"io"
	"path"
	"strings"
	"sync"

	"github.com/rootfsd/rootfsd/repo"
	"github.com/rootfsd/rootfsd/repo/fstree"
)

// metaPackages is the cache namespace mapping an .apk's C: checksum to the
// SHA256 of the verified file kept for it.
const metaPackages = "apk-package"

// downloads in flight while installing.
const parallelDownloads = 4

var _ repo.PackageFetcher = (*Backend)(nil)

// FetchPackage downloads one package of a plan into the cache, unless a
// verified copy is there already, verifies all of it (signature, C:, S:,
// datahash, every file) and returns its digest in the cache.
func (b *Backend) FetchPackage(ctx context.Context, p repo.Planned) (string, error) {
	if p.Checksum == "" {
		return "", fmt.Errorf("apk: %s-%s: the plan has no checksum to verify it with", p.Name, p.Version)
	}
	if d, err := b.Cache.GetMeta(metaPackages, p.Checksum); err == nil && b.Cache.Has(string(d)) {
		b.Reporter.Report(repo.Event{Kind: repo.EventDownload, Name: p.Name, Current: p.Size, Total: p.Size, Cached: true})
		return string(d), nil
	}
	u := strings.TrimRight(p.Repository, "/") + "/" + p.Filename
	res, err := b.fetcher().Get(ctx, u, repo.GetOptions{Size: p.Size, Kind: repo.EventDownload, Name: p.Name,
		BlobKind: repo.BlobPackage, BlobName: path.Base(p.Filename)})
	if err != nil {
		return "", fmt.Errorf("apk: %s-%s: %w", p.Name, p.Version, err)
	}
	arch, _, _ := strings.Cut(p.Filename, "/")
	keys, err := b.allKeys(arch, b.Repositories)
	if err != nil {
		return "", err
	}
	open := func(repo.Planned) (io.ReadCloser, error) { return b.Cache.Open(ctx, res.Digest) }
	if _, err := readPlanned(ctx, open, p, keys, b.Limits, false); err != nil {
		return "", err
	}
	// Only a package that verified maps its checksum to the blob.
	if err := b.Cache.SetMeta(metaPackages, p.Checksum, []byte(res.Digest)); err != nil {
		return "", fmt.Errorf("apk: %s-%s: %w", p.Name, p.Version, err)
	}
	return res.Digest, nil
}

// Install builds a root from a plan Resolve made for req: it fetches the
// packages through the cache (four at a time) and assembles them into
// tree. The world written is req's packages and the variant's.
func (b *Backend) Install(ctx context.Context, req repo.Request, plan *repo.Plan, tree *fstree.Tree) (*AssembleResult, error) {
	if plan.Family != repo.FamilyAPK {
		return nil, fmt.Errorf("apk: plan of family %q", plan.Family)
	}
	srcs, err := b.sources(req, plan.Arch)
	if err != nil {
		return nil, err
	}
	keys, err := b.allKeys(plan.Arch, srcs)
	if err != nil {
		return nil, err
	}
	digests, err := b.fetchAll(ctx, plan.Packages)
	if err != nil {
		return nil, err
	}
	world, err := World(req.Packages, plan.Variant)
	if err != nil {
		return nil, err
	}
	lines := make([]string, len(srcs))
	for i, s := range srcs {
		lines[i] = s.String()
	}
	open := func(p repo.Planned) (io.ReadCloser, error) { return b.Cache.Open(ctx, digests[p.Checksum]) }
	return Assemble(ctx, tree, plan, open, AssembleOptions{Keys: keys, Limits: b.Limits, World: world,
		Repositories: lines, Report: b.Reporter})
}

// fetchAll runs FetchPackage for every package, a few at a time, and maps
// checksums to digests. The first error cancels the rest.
func (b *Backend) fetchAll(ctx context.Context, pkgs []repo.Planned) (map[string]string, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	digests := make([]string, len(pkgs))
	var mu sync.Mutex
	var first error
	sem := make(chan struct{}, parallelDownloads)
	var wg sync.WaitGroup
	for i := range pkgs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-sem }()
			d, err := b.FetchPackage(ctx, pkgs[i])
			mu.Lock()
			defer mu.Unlock()
			if err != nil && first == nil {
				first = err
				cancel()
			}
			digests[i] = d
		}()
	}
	wg.Wait()
	if first != nil {
		return nil, first
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make(map[string]string, len(pkgs))
	for i, p := range pkgs {
		out[p.Checksum] = digests[i]
	}
	return out, nil
}

// allKeys is the union of the keys trusted for the sources.
func (b *Backend) allKeys(arch string, srcs []repo.Source) (*Keyring, error) {
	k := NewKeyring()
	base, err := b.keyring(arch, repo.Source{})
	if err != nil {
		return nil, err
	}
	for n, key := range base.keys {
		k.keys[n] = key
	}
	for _, s := range srcs {
		sk, err := b.keyring(arch, s)
		if err != nil {
			return nil, err
		}
		for n, key := range sk.keys {
			k.keys[n] = key
		}
	}
	return k, nil
}
