package deb

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/rootfsd/rootfsd/repo"
)

// Backend resolves requests for Debian and Ubuntu releases. It implements
// repo.Backend and repo.Shower.
type Backend struct {
	Cache   repo.Cache
	Fetcher *repo.Fetcher
	Mirrors repo.Mirrors
	Offline bool
	Now     func() time.Time
	// Reporter receives progress events.
	Reporter repo.Reporter
	// Keyring, when set, replaces the release's embedded archive keyring:
	// for private mirrors re-signed with an organisation's own key.
	Keyring openpgp.EntityList
}

// metaScan maps a Packages digest to the digest of its scan table. The
// name follows the table's format (scanMagic), so that rootfsd versions
// sharing a cache keep a scan each instead of replacing each other's.
const metaScan = "deb-scan-v3"

// Universe fetches (or reads from the cache) and verifies every index the
// request needs and indexes their packages.
func (b *Backend) Universe(ctx context.Context, req repo.Request) (*Universe, []repo.Index, *repo.Distro, error) {
	d, err := repo.LookupDistro(req.Distro)
	if err != nil {
		return nil, nil, nil, err
	}
	if d.Family != repo.FamilyDeb {
		return nil, nil, nil, fmt.Errorf("deb: %s is not a Debian or Ubuntu release", d.Name())
	}
	arch := repo.DebianArch(req.Arch)
	mirrors, err := b.Mirrors.Resolve(d, arch)
	if err != nil {
		return nil, nil, nil, err
	}
	comps := req.Components
	if len(comps) == 0 {
		comps = d.Components
	}
	keyring := b.Keyring
	if len(keyring) == 0 {
		if keyring, err = Keyring(d.Keyring); err != nil {
			return nil, nil, nil, err
		}
	}
	var suites []Suite
	for _, p := range d.Pockets {
		url := mirrors.Mirror
		if p.Security {
			url = mirrors.SecurityMirror
		}
		suites = append(suites, Suite{URL: url, Name: p.Suite, Components: comps, Arch: arch, Keyring: keyring})
	}
	for _, s := range req.Sources {
		kr, err := sourceKeyring(s)
		if err != nil {
			return nil, nil, nil, err
		}
		suites = append(suites, Suite{URL: s.URL, Name: s.Suite, Components: s.Components, Arch: arch, Keyring: kr})
	}

	idx := make([]*SuiteIndex, len(suites))
	errs := make([]error, len(suites))
	var wg sync.WaitGroup
	for i, s := range suites {
		wg.Add(1)
		go func(i int, s Suite) {
			defer wg.Done()
			idx[i], errs[i] = FetchSuite(ctx, s, b.fetchOptions())
		}(i, s)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, nil, nil, err
		}
	}

	var files []*IndexFile
	var indexes []repo.Index
	for i, si := range idx {
		indexes = append(indexes, repo.Index{Name: si.Suite, URL: si.URL, Digest: si.InReleaseSHA256, Date: si.Date.UTC().Format(time.RFC3339)})
		if si.Age > 0 && b.Offline {
			b.Reporter.Report(repo.Event{Kind: repo.EventWarning, Message: fmt.Sprintf("offline: index %s is %s old", si.Suite, si.Age.Round(time.Minute))})
		}
		for _, pf := range si.Files {
			files = append(files, &IndexFile{Suite: si.Suite, Component: pf.Component, Repository: si.URL,
				Digest: pf.Digest, Release: i == 0, Extra: i >= len(d.Pockets), fresh: !pf.Cached})
		}
	}
	err = b.loadFiles(ctx, files)
	if err != nil {
		releaseFiles(files)
		return nil, nil, nil, err
	}
	u, err := NewUniverse(arch, files)
	if err != nil {
		releaseFiles(files)
		return nil, nil, nil, err
	}
	b.saveScans(ctx, files)
	return u, indexes, d, nil
}

func (b *Backend) fetchOptions() FetchOptions {
	return FetchOptions{Cache: b.Cache, Fetcher: b.Fetcher, Offline: b.Offline, Now: b.Now, Reporter: b.Reporter}
}

func sourceKeyring(s repo.Source) (openpgp.EntityList, error) {
	if s.SignedBy == "" {
		return nil, fmt.Errorf("deb: source %s has no signed-by key: rootfsd trusts no repository without one", s)
	}
	var data []byte
	if strings.Contains(s.SignedBy, "BEGIN PGP") {
		data = []byte(s.SignedBy)
	} else {
		var err error
		if data, err = os.ReadFile(s.SignedBy); err != nil {
			return nil, fmt.Errorf("deb: key of source %s: %w", s, err)
		}
	}
	kr, err := ReadKeyring(data)
	if err != nil {
		return nil, fmt.Errorf("deb: key of source %s: %w", s, err)
	}
	return kr, nil
}

// loadFiles maps the Packages blobs and reads their cached scans, in
// parallel. A file with a cached scan is not hashed whole: each stanza's
// bytes are checked against the scan's block sums before their first use
// (IndexFile.bytes), and a resolve reads a few hundred of the stanzas of a
// release's hundred megabytes. Any other file is hashed whole here, unless
// this run downloaded it (then it was hashed on its way into the cache).
func (b *Backend) loadFiles(ctx context.Context, files []*IndexFile) error {
	errs := make([]error, len(files))
	var wg sync.WaitGroup
	for i, f := range files {
		wg.Add(1)
		go func(i int, f *IndexFile) {
			defer wg.Done()
			errs[i] = b.loadFile(ctx, f)
		}(i, f)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func (b *Backend) loadFile(ctx context.Context, f *IndexFile) error {
	data, mapped, verified, err := mapBlobLazy(ctx, b.Cache, f.Digest)
	if err != nil {
		return fmt.Errorf("deb: Packages of %s/%s: %w", f.Suite, f.Component, err)
	}
	f.Data, f.mapped = data, mapped
	if td, err := b.Cache.GetMeta(metaScan, f.Digest); err == nil {
		if tb, err := readBlob(ctx, b.Cache, string(td)); err == nil {
			if s, err := unmarshalScan(tb, len(data)); err == nil {
				f.scan, f.scanCached = s, true
			}
		}
	}
	switch {
	case verified || f.fresh:
	case f.scan != nil:
		f.lazy = true
		f.onCorrupt = func() error { return quarantineBlob(ctx, b.Cache, f.Digest) }
	default:
		if err := checkMapped(data, f.Digest); err != nil {
			releaseFiles([]*IndexFile{f})
			if cerr := quarantineBlob(ctx, b.Cache, f.Digest); cerr != nil {
				err = cerr // the cache's own report
			}
			return fmt.Errorf("deb: Packages of %s/%s: %w", f.Suite, f.Component, err)
		}
	}
	return nil
}

// saveScans stores the scan tables computed in this run. Failures only
// cost the next run the scan again, so they are not errors.
func (b *Backend) saveScans(ctx context.Context, files []*IndexFile) {
	for _, f := range files {
		if f.scanCached {
			continue
		}
		data := f.scan.marshal()
		name := f.Suite + "/" + f.Component + " Packages (table)"
		digest, _, err := repo.PutLabeled(ctx, b.Cache, bytes.NewReader(data), "", int64(len(data)), repo.BlobIndex, name)
		if err == nil {
			_ = b.Cache.SetMeta(metaScan, f.Digest, []byte(digest))
		}
	}
}

// readBlob reads a whole blob through the cache's verifying reader into a
// buffer sized from the blob file (io.ReadAll's doubling costs more than
// the hashing on a 70 MB index).
func releaseFiles(files []*IndexFile) {
	for _, f := range files {
		if f.mapped {
			unmapBlob(f.Data)
			f.mapped, f.Data = false, nil
		}
	}
}

func readBlob(ctx context.Context, c repo.Cache, digest string) ([]byte, error) {
	rc, err := c.Open(ctx, digest)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	size := int64(0)
	if fi, err := os.Stat(c.Path(digest)); err == nil {
		size = fi.Size()
	}
	buf := bytes.NewBuffer(make([]byte, 0, size+bytes.MinRead))
	if _, err := buf.ReadFrom(rc); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// selection maps a variant to apt's terms.
func selection(req repo.Request, d *repo.Distro) Selection {
	sel := Selection{Packages: req.Packages, Recommends: req.Recommends,
		Where: d.Name() + " " + strings.Join(componentsOf(req, d), ", ")}
	switch req.Variant {
	case repo.VariantBase, "":
		sel.Packages = append([]string{d.BasePackage}, req.Packages...)
	case repo.VariantEssential:
		sel.Essential = true
	case repo.VariantMinbase:
		sel.Essential, sel.Required = true, true
	case repo.VariantApt:
		sel.AptEssential = true
	}
	return sel
}

func componentsOf(req repo.Request, d *repo.Distro) []string {
	if len(req.Components) > 0 {
		return req.Components
	}
	return d.Components
}

// Resolve implements repo.Backend.
func (b *Backend) Resolve(ctx context.Context, req repo.Request) (*repo.Plan, error) {
	u, indexes, d, err := b.Universe(ctx, req)
	if err != nil {
		return nil, err
	}
	defer u.Close()
	res, err := u.Resolve(selection(req, d))
	if err != nil {
		return nil, err
	}
	plan := &repo.Plan{Family: repo.FamilyDeb, Distro: d.Name(), Arch: u.Arch, Variant: req.Variant, Indexes: indexes}
	if plan.Variant == "" {
		plan.Variant = repo.VariantBase
	}
	for _, r := range res {
		if r.Package.Name == d.BasePackage && r.Reason == "requested" && !named(req.Packages, d.BasePackage) {
			r.Reason = "variant base"
		}
		plan.Packages = append(plan.Packages, planned(r))
	}
	plan.Sort()
	return plan, nil
}

func planned(r Resolved) repo.Planned {
	p := r.Package
	return repo.Planned{
		Name: p.Name, Version: p.Version, Arch: p.Arch,
		Source: p.Source, SourceVersion: p.SourceVersion,
		Repository: r.File.Repository, Filename: p.Filename, Size: p.Size, SHA256: p.SHA256,
		InstalledSize: p.InstalledSize * 1024, Essential: p.Essential, Priority: p.Priority,
		MultiArch: p.MultiArch, Suite: r.File.Suite, Reason: r.Reason, Depends: r.Deps,
	}
}

// named reports whether specs ("name", "name=version", "name/suite")
// ask for name.
func named(list []string, s string) bool {
	for _, x := range list {
		if x == s || strings.HasPrefix(x, s+"=") || strings.HasPrefix(x, s+"/") {
			return true
		}
	}
	return false
}

// FetchPackage implements repo.PackageFetcher: the .deb is fetched by pool
// path and verified against the size and SHA256 the signed index (or the
// lock) gives; a cached copy is used without a request.
func (b *Backend) FetchPackage(ctx context.Context, p repo.Planned) (string, error) {
	if p.SHA256 == "" {
		return "", fmt.Errorf("deb: %s %s: no SHA256 to verify against", p.Name, p.Version)
	}
	if err := checkPlanned(p.Name, p.Version, p.Filename, p.Size, p.SHA256); err != nil { // policy.go
		return "", err
	}
	url := strings.TrimRight(p.Repository, "/") + "/" + p.Filename
	res, err := b.Fetcher.Get(ctx, url, repo.GetOptions{Size: p.Size, SHA256: p.SHA256, Name: p.Name, Kind: repo.EventDownload,
		BlobKind: repo.BlobPackage, BlobName: path.Base(p.Filename)})
	if err != nil {
		return "", fmt.Errorf("deb: download %s %s: %w", p.Name, p.Version, err)
	}
	return res.Digest, nil
}
