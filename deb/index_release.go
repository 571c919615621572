package deb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/rootfsd/rootfsd/repo"
)

// suiteRecord is what the cache remembers of a verified suite.
type suiteRecord struct {
	Digest   string                 `json:"digest"`
	Detached []byte                 `json:"detached,omitempty"` // Release.gpg when there was no InRelease
	Date     time.Time              `json:"date"`
	Verified time.Time              `json:"verified"`
	Packages map[string]packagesRef `json:"packages,omitempty"`
}

type packagesRef struct {
	Digest string `json:"digest"`
	Size   int64  `json:"size"`
}

// suiteFetch is the state of one FetchSuite.
type suiteFetch struct {
	s      Suite
	opt    FetchOptions
	f      repo.Fetcher // opt.Fetcher's settings with cache
	cache  repo.Cache
	report repo.Reporter
	now    time.Time
	base   string
	rec    *suiteRecord // as recorded before this fetch, or nil
	rel    *Release
	digest string // of the verified InRelease (or Release)
	sig    []byte // Release.gpg, when detached
}

func (fx *suiteFetch) loadRecord() *suiteRecord {
	b, err := fx.cache.GetMeta(metaSuite, fx.base)
	if err != nil {
		return nil
	}
	var r suiteRecord
	if json.Unmarshal(b, &r) != nil || r.Digest == "" {
		return nil
	}
	return &r
}

func (fx *suiteFetch) saveRecord(x *SuiteIndex) {
	r := suiteRecord{Digest: x.InReleaseSHA256, Detached: fx.sig, Date: x.Date, Verified: x.Verified, Packages: map[string]packagesRef{}}
	for _, c := range x.Files {
		r.Packages[c.Path] = packagesRef{Digest: c.Digest, Size: c.Size}
	}
	b, _ := json.Marshal(r)
	if err := fx.cache.SetMeta(metaSuite, fx.base, b); err != nil {
		fx.report.Report(repo.Event{Kind: repo.EventWarning, Name: fx.s.Name, Message: "cannot record the verified suite: " + err.Error()})
	}
}

// verify checks a signed InRelease (sig nil) or a Release with its
// detached signature, parses it and checks it against the clock, the
// suite name and the Date recorded before.
func (fx *suiteFetch) verify(data, sig []byte, rollback bool) error {
	var signed *Signed
	var err error
	if sig == nil {
		signed, err = VerifyInRelease(data, fx.s.Keyring, fx.now)
	} else {
		signed, err = VerifyDetached(data, sig, fx.s.Keyring, fx.now)
	}
	if err != nil {
		return fmt.Errorf("InRelease: %w", err)
	}
	rel, err := ParseRelease(signed.Body)
	if err != nil {
		return err
	}
	c := ReleaseCheck{Suite: fx.s.Name, Now: fx.now, MaxFuture: fx.opt.MaxFuture}
	if rollback && fx.rec != nil {
		c.NotBefore = fx.rec.Date
	}
	if err := rel.Check(c); err != nil {
		return fmt.Errorf("Release: %w", err)
	}
	fx.rel, fx.sig = rel, sig
	return nil
}

func (fx *suiteFetch) releaseOnline(ctx context.Context) error {
	f := &fx.f
	opt := repo.GetOptions{Conditional: true, MaxSize: maxInReleaseSize, Kind: repo.EventIndex, Name: fx.s.Name + " InRelease", BlobKind: repo.BlobIndex}
	opt.Check = func(data []byte) error { return fx.verify(data, nil, true) }
	res, err := f.Get(ctx, fx.base+"InRelease", opt)
	if errors.Is(err, repo.ErrNotFound) {
		sig, serr := f.GetBytes(ctx, fx.base+"Release.gpg", repo.GetOptions{MaxSize: 2 * maxSignatureBytes, Kind: repo.EventIndex, Name: fx.s.Name + " Release.gpg"})
		if serr != nil {
			return fmt.Errorf("no InRelease (%w), and Release.gpg: %w", err, serr)
		}
		opt.Name = fx.s.Name + " Release"
		opt.Check = func(data []byte) error { return fx.verify(data, sig, true) }
		res, err = f.Get(ctx, fx.base+"Release", opt)
	}
	if err != nil {
		return err
	}
	fx.digest = res.Digest
	return nil
}

func (fx *suiteFetch) releaseOffline(ctx context.Context) error {
	if fx.rec == nil {
		return fmt.Errorf("offline, and the cache holds no verified InRelease for %s", fx.base)
	}
	rc, err := fx.cache.Open(ctx, fx.rec.Digest)
	if err != nil {
		return fmt.Errorf("offline: InRelease %s: %w", fx.rec.Digest, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxInReleaseSize+1))
	if err != nil {
		return fmt.Errorf("offline: InRelease %s: %w", fx.rec.Digest, err)
	}
	if err := fx.verify(data, fx.rec.Detached, false); err != nil {
		return fmt.Errorf("offline: %w", err)
	}
	fx.digest = fx.rec.Digest
	return nil
}
