package apk

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/rootfsd/rootfsd/repo"
)

// Backend implements repo.Backend for Alpine: it fetches and verifies the
// APKINDEX of each repository through the cache and resolves requests
// over them. Install (install_backend.go) builds a root from the plan.
type Backend struct {
	// Repositories are the repository URLs, in priority order, each with
	// an optional Tag (pinned repository) and SignedBy (an extra key file
	// trusted for that repository only).
	Repositories []repo.Source
	// Arch is the default architecture (Alpine's spelling, or amd64/arm64).
	Arch string
	// Keys are trusted for every repository; nil is DefaultKeyring(arch).
	Keys *Keyring
	// Cache keeps indexes and packages by content SHA256. Required.
	Cache repo.Cache
	// Client sends requests when Fetcher is nil.
	Client *http.Client
	// Fetcher downloads; nil builds one from Client and Cache.
	Fetcher  *repo.Fetcher
	Limits   Limits
	Reporter repo.Reporter
	// Distro is the canonical name recorded in plans ("alpine:3.19").
	Distro string
}

var _ repo.Backend = (*Backend)(nil)

// ErrNoRepositories is returned when neither the backend nor the request
// names a repository.
var ErrNoRepositories = errors.New("apk: no repository configured: set the Alpine mirror or pass repository URLs")

func (b *Backend) fetcher() *repo.Fetcher {
	if b.Fetcher != nil {
		return b.Fetcher
	}
	return &repo.Fetcher{Client: b.Client, Cache: b.Cache, Reporter: b.Reporter}
}

func (b *Backend) arch(req repo.Request) string {
	if req.Arch != "" {
		return repo.AlpineArch(req.Arch)
	}
	return repo.AlpineArch(b.Arch)
}

// keyring returns the keys trusted for src: the backend's plus its own.
func (b *Backend) keyring(arch string, src repo.Source) (*Keyring, error) {
	base := b.Keys
	if base == nil {
		k, err := DefaultKeyring(arch)
		if err != nil {
			return nil, err
		}
		base = k
	}
	if src.SignedBy == "" {
		return base, nil
	}
	if strings.Contains(src.SignedBy, "-----BEGIN") {
		return nil, fmt.Errorf("apk: repository %s: apk matches keys by file name: give SignedBy as a key file path", src.URL)
	}
	k := NewKeyring()
	for n, key := range base.keys {
		k.keys[n] = key
	}
	if err := k.AddFile(src.SignedBy); err != nil {
		return nil, err
	}
	return k, nil
}

// sources lists the repositories of a request, configured ones first.
func (b *Backend) sources(req repo.Request, arch string) ([]repo.Source, error) {
	var out []repo.Source
	for _, s := range b.Repositories {
		if len(s.Arches) == 0 || contains(s.Arches, arch) {
			out = append(out, s)
		}
	}
	for _, s := range req.Sources {
		if len(s.Arches) > 0 && !contains(s.Arches, arch) {
			continue
		}
		// As with apk, the trusted keys (embedded alpine-keys and --key
		// files) verify every repository; SignedBy adds one of its own.
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, ErrNoRepositories
	}
	return out, nil
}

// LoadRepositories fetches, verifies and parses the index of every source,
// in parallel, through the cache.
func (b *Backend) LoadRepositories(ctx context.Context, srcs []repo.Source, arch string) ([]*Repository, error) {
	if b.Cache == nil {
		return nil, errors.New("apk: backend has no cache")
	}
	repos := make([]*Repository, len(srcs))
	errs := make([]error, len(srcs))
	var wg sync.WaitGroup
	for i, src := range srcs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			repos[i], errs[i] = b.loadRepository(ctx, src, arch)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return repos, nil
}

func (b *Backend) loadRepository(ctx context.Context, src repo.Source, arch string) (*Repository, error) {
	keys, err := b.keyring(arch, src)
	if err != nil {
		return nil, err
	}
	base := strings.TrimRight(src.URL, "/")
	name := repoLabel(base, arch)
	indexURL := base + "/" + arch + "/APKINDEX.tar.gz"
	lim := b.Limits.withDefaults()
	var idx *Index
	res, err := b.fetcher().Get(ctx, indexURL, repo.GetOptions{
		MaxSize:     lim.IndexSize,
		Conditional: true,
		Kind:        repo.EventIndex,
		Name:        name,
		BlobKind:    repo.BlobIndex,
		BlobName:    name + " APKINDEX",
		Check: func(data []byte) error {
			var err error
			idx, err = ReadIndex(data, keys, lim)
			return err
		},
	})
	if err != nil {
		return nil, fmt.Errorf("apk: index of %s: %w", name, err)
	}
	if idx == nil { // not checked by this Get: read the cached copy
		rc, err := b.Cache.Open(ctx, res.Digest)
		if err != nil {
			return nil, fmt.Errorf("apk: index of %s: %w", name, err)
		}
		data, err := readAllLimited(rc, lim.IndexSize, "apk: index of "+name)
		rc.Close()
		if err != nil {
			return nil, err
		}
		if idx, err = ReadIndex(data, keys, lim); err != nil {
			return nil, err
		}
	}
	if err := checkRollback(b.Cache, indexURL, idx); err != nil { // rollback.go
		return nil, err
	}
	b.Reporter.Report(repo.Event{Kind: repo.EventIndex, Name: name, Cached: res.Cached,
		Message: fmt.Sprintf("%d packages, %s, signed by %s", len(idx.Packages), idx.Description, idx.Signer)})
	return &Repository{URL: base, Arch: arch, Tag: src.Tag, Name: name, Digest: res.Digest, Index: idx}, nil
}

// repoLabel names a repository by the last two path components of its URL
// and the architecture: "v3.19/main/x86_64".
func repoLabel(base, arch string) string {
	p := base
	if u, err := url.Parse(base); err == nil {
		p = u.Path
	}
	p = strings.Trim(p, "/")
	parts := strings.Split(p, "/")
	if len(parts) > 2 {
		parts = parts[len(parts)-2:]
	}
	if p == "" {
		return arch
	}
	return path.Join(append(parts, arch)...)
}

// Resolve fetches the indexes and resolves req into a plan in install
// order. Packages are "name", "name=version", "name>=version", "name@tag"
// and other apk dependency syntax. The base variant adds
// alpine-baselayout-data; custom is exactly the closure.
func (b *Backend) Resolve(ctx context.Context, req repo.Request) (*repo.Plan, error) {
	arch := b.arch(req)
	variant := req.Variant
	if variant == "" {
		variant = repo.VariantBase
	}
	world, err := worldGoals(req.Packages, variant)
	if err != nil {
		return nil, err
	}
	srcs, err := b.sources(req, arch)
	if err != nil {
		return nil, err
	}
	repos, err := b.LoadRepositories(ctx, srcs, arch)
	if err != nil {
		return nil, err
	}
	trusted, err := b.keyring(arch, repo.Source{})
	if err != nil {
		return nil, err
	}
	repos = thirdPartyPolicy(repos, trusted) // policy.go
	b.Reporter.Report(repo.Event{Kind: repo.EventResolve, Message: "resolving " + strings.Join(req.Packages, " ")})
	r, err := NewResolver(repos)
	if err != nil {
		return nil, err
	}
	sol, err := r.Resolve(world)
	if err != nil {
		return nil, err
	}
	distro := b.Distro
	if distro == "" {
		distro = req.Distro
	}
	plan := &repo.Plan{Family: repo.FamilyAPK, Distro: distro, Arch: arch, Variant: variant}
	for _, rp := range repos {
		plan.Indexes = append(plan.Indexes, repo.Index{Name: rp.Name, URL: rp.URL + "/" + arch + "/APKINDEX.tar.gz",
			Digest: rp.Digest, Date: rp.Index.Date.Format(time.RFC3339)})
	}
	for _, p := range sol.Packages {
		plan.Packages = append(plan.Packages, planned(p, arch))
	}
	b.Reporter.Report(repo.Event{Kind: repo.EventResolve, Message: fmt.Sprintf("%d packages", len(plan.Packages)), Total: int64(len(plan.Packages))})
	return plan, nil
}

func planned(p Resolved, arch string) repo.Planned {
	pkg := p.Package
	suite := p.Repository.Name
	if p.Repository.Tag != "" {
		suite = "@" + p.Repository.Tag + " " + suite
	}
	return repo.Planned{
		Name: pkg.Name, Version: pkg.Version, Arch: pkg.Arch,
		Source: pkg.Origin, SourceVersion: pkg.Version,
		Repository: p.Repository.URL, Filename: arch + "/" + pkg.Filename(),
		Size: pkg.Size, Checksum: pkg.Checksum, InstalledSize: pkg.InstalledSize,
		Licence: pkg.License, Suite: suite, Reason: p.Reason, Depends: p.Depends,
	}
}

// World turns requested packages and the variant into the world apk
// records in etc/apk/world: the packages in the order given, then
// alpine-baselayout-data for the base variant.
func World(packages []string, variant repo.Variant) ([]Dep, error) {
	if variant == "" {
		variant = repo.VariantBase
	}
	goals, err := worldGoals(packages, variant)
	if err != nil {
		return nil, err
	}
	deps := make([]Dep, len(goals))
	for i, g := range goals {
		deps[i] = g.Dep
	}
	return deps, nil
}

// worldGoals turns requested packages and the variant into goals.
func worldGoals(pkgs []string, variant repo.Variant) ([]Goal, error) {
	var world []Goal
	for _, s := range pkgs {
		d, err := ParseDep(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("apk: requested package: %w", err)
		}
		world = append(world, Goal{Dep: d, Reason: "requested"})
	}
	switch variant {
	case repo.VariantBase:
		world = append(world, Goal{Dep: Dep{Name: "alpine-baselayout-data", Op: OpAny}, Reason: "variant base"})
	case repo.VariantCustom:
	default:
		return nil, fmt.Errorf("apk: variant %q is Debian's: Alpine builds know %q and %q", variant, repo.VariantBase, repo.VariantCustom)
	}
	if len(world) == 0 {
		return nil, errors.New("apk: nothing to install: name at least one package")
	}
	return world, nil
}
