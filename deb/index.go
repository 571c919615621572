package deb

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/rootfsd/rootfsd/repo"
)

// ErrMissingComponent is wrapped when a Release has no Packages index for
// a requested component and architecture.
var ErrMissingComponent = errors.New("component not in Release")

const (
	// DefaultMaxIndexSize caps an uncompressed Packages index.
	DefaultMaxIndexSize = 1 << 30
	// DefaultMaxRatio caps decompressed/compressed size of an index whose
	// uncompressed size the Release does not give.
	DefaultMaxRatio = 50
	// maxInReleaseSize caps InRelease and Release downloads.
	maxInReleaseSize = 16 << 20
	// metaSuite is the Cache meta namespace of verified suites, keyed by
	// the suite's URL.
	metaSuite = "deb-suite"
)

// Suite names one suite of an archive to fetch.
type Suite struct {
	// URL is the archive's base URL, the directory holding dists/ and
	// pool/ ("http://host/debian").
	URL string
	// Name is the directory below dists/ ("noble-security",
	// "bookworm"); the Release's Suite or Codename must equal it.
	Name       string
	Components []string
	// Arch is a Debian architecture name. Its Packages index already
	// holds the Architecture: all packages.
	Arch    string
	Keyring openpgp.EntityList
}

// DistURL is the suite's directory below dists/, ending in a slash.
func (s *Suite) DistURL() string { return strings.TrimRight(s.URL, "/") + "/dists/" + s.Name + "/" }

// FetchOptions tune FetchSuite.
type FetchOptions struct {
	// Cache keeps the verified files; nil is Fetcher.Cache. Required one
	// way or the other.
	Cache repo.Cache
	// Fetcher downloads (nil: a repo.Fetcher with defaults). Its own Cache
	// is not used: downloads go to Cache.
	Fetcher *repo.Fetcher
	// Reporter receives progress events (nil: Fetcher.Reporter).
	Reporter repo.Reporter
	// Offline uses only the cache: the InRelease last verified for the
	// suite and the Packages it names.
	Offline bool
	// Now is the clock (nil: time.Now); MaxFuture is how far a Release
	// Date may lie ahead of it (0: DefaultMaxFuture).
	Now       func() time.Time
	MaxFuture time.Duration
	// MaxIndexSize and MaxRatio bound decompression (0: defaults).
	MaxIndexSize int64
	MaxRatio     int64
	// Parallel is how many components are fetched at once (0: the
	// number of CPUs, at least 2).
	Parallel int
}

// SuiteIndex is a verified suite: its Release and, per component, the
// digest of its uncompressed Packages in the cache.
type SuiteIndex struct {
	Suite string
	// URL is the archive's base URL, which pool paths are relative to.
	URL string
	// InReleaseSHA256 is the digest of the signed file in the cache:
	// InRelease, or Release when the suite only has Release + Release.gpg.
	InReleaseSHA256  string
	Date, ValidUntil time.Time
	// Verified is when this InRelease was first verified online; Age is
	// how old the Release is (Now - Date). Offline says it came from the
	// cache alone.
	Verified time.Time
	Age      time.Duration
	Offline  bool
	Release  *Release
	// Files holds one Packages index per component, in Suite order.
	Files []PackagesFile
}

// PackagesFile is one component's uncompressed Packages index in the cache.
type PackagesFile struct {
	Component string // "main"
	Path      string // "main/binary-amd64/Packages", below dists/SUITE/
	Digest    string // SHA256 of the uncompressed Packages
	Size      int64
	// Cached is true when nothing was downloaded for it.
	Cached bool
}

// FetchSuite gets and verifies a suite's InRelease (a conditional request
// when it was fetched before; Release + Release.gpg when there is no
// InRelease), checks it (suite, dates, rollback against the Date recorded
// in the cache), then fetches each component's Packages index in parallel
// and keeps it uncompressed in the cache, verified against the Release.
// Nothing that failed verification is kept.
func FetchSuite(ctx context.Context, s Suite, opt FetchOptions) (*SuiteIndex, error) {
	fx := &suiteFetch{s: s, opt: opt, base: s.DistURL(), cache: opt.Cache, report: opt.Reporter}
	if opt.Fetcher != nil {
		fx.f = *opt.Fetcher
		if fx.cache == nil {
			fx.cache = opt.Fetcher.Cache
		}
	}
	fx.f.Cache = fx.cache
	if fx.report == nil {
		fx.report = fx.f.Reporter
	}
	if fx.f.Reporter == nil {
		fx.f.Reporter = fx.report
	}
	if err := s.check(fx.cache); err != nil {
		return nil, fmt.Errorf("deb: suite %q: %w", s.Name, err)
	}
	fx.now = time.Now()
	if opt.Now != nil {
		fx.now = opt.Now()
	}
	fx.rec = fx.loadRecord()
	var err error
	if opt.Offline {
		err = fx.releaseOffline(ctx)
	} else {
		err = fx.releaseOnline(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("deb: %s: %w", s.Name, err)
	}
	x := &SuiteIndex{
		Suite: s.Name, URL: strings.TrimRight(s.URL, "/"), InReleaseSHA256: fx.digest,
		Date: fx.rel.Date, ValidUntil: fx.rel.ValidUntil,
		Verified: fx.now, Age: fx.now.Sub(fx.rel.Date), Offline: opt.Offline, Release: fx.rel,
	}
	if fx.rec != nil && fx.rec.Digest == fx.digest {
		x.Verified = fx.rec.Verified
	}
	if x.Files, err = fx.components(ctx); err != nil {
		return nil, err
	}
	if !opt.Offline {
		fx.saveRecord(x)
	}
	fx.report.Report(repo.Event{Kind: repo.EventIndex, Name: s.Name, Message: "verified", Cached: opt.Offline})
	return x, nil
}

func (s *Suite) check(cache repo.Cache) error {
	switch {
	case cache == nil:
		return errors.New("no cache")
	case s.URL == "":
		return errors.New("no mirror URL")
	case s.Name == "" || strings.ContainsAny(s.Name, "?#") || strings.Contains(s.Name, ".."):
		return errors.New("bad suite name")
	case s.Arch == "":
		return errors.New("no architecture")
	case len(s.Components) == 0:
		return errors.New("no components")
	case len(s.Keyring) == 0:
		return errors.New("empty keyring")
	}
	for _, c := range s.Components {
		if c == "" || strings.Contains(c, "..") || strings.HasPrefix(c, "/") {
			return fmt.Errorf("bad component %q", c)
		}
	}
	return nil
}

// components fetches every component's Packages, Parallel at a time; the
// first failure stops the others.
func (fx *suiteFetch) components(ctx context.Context) ([]PackagesFile, error) {
	for _, c := range fx.s.Components {
		if err := fx.listed(c); err != nil {
			return nil, fmt.Errorf("deb: %s/%s: %w", fx.s.Name, c, err)
		}
	}
	par := fx.opt.Parallel
	if par <= 0 {
		par = max(2, runtime.GOMAXPROCS(0))
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	out := make([]PackagesFile, len(fx.s.Components))
	errs := make([]error, len(fx.s.Components))
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	for i, c := range fx.s.Components {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			if ctx.Err() != nil {
				return
			}
			out[i], errs[i] = fx.component(ctx, c)
			if errs[i] != nil {
				errs[i] = fmt.Errorf("deb: %s/%s: %w", fx.s.Name, c, errs[i])
				cancel(errs[i])
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	return out, nil
}

// listed checks that the Release lists a Packages index for comp.
func (fx *suiteFetch) listed(comp string) error {
	p := comp + "/binary-" + fx.s.Arch + "/Packages"
	for _, ext := range []string{"", ".gz", ".xz"} {
		if _, ok := fx.rel.File(p + ext); ok {
			return nil
		}
	}
	extra := ""
	if len(fx.rel.Architectures) > 0 && !slices.Contains(fx.rel.Architectures, fx.s.Arch) {
		extra = "; architecture " + fx.s.Arch + " is not served"
	}
	return fmt.Errorf("%w: the Release lists no %s (components: %s; architectures: %s)%s", ErrMissingComponent, p,
		strings.Join(fx.rel.Components, " "), strings.Join(fx.rel.Architectures, " "), extra)
}
