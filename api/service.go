package api

import (
	"context"
	"time"

	"github.com/rootfsd/rootfsd/repo"
)

// Service is the work the daemon serves and the CLI runs in-process when no
// daemon answers. cmd/rootfsd implements it over the engine; Client
// implements it over the socket. Every method reports progress to rep (nil
// drops it) and honours ctx: a client that goes away cancels only its own
// request.
type Service interface {
	Build(ctx context.Context, opt Options, req BuildRequest, rep repo.Reporter) (*BuildResult, error)
	Resolve(ctx context.Context, opt Options, req repo.Request, rep repo.Reporter) (*repo.Plan, error)
	Lock(ctx context.Context, opt Options, req repo.Request, rep repo.Reporter) (*repo.Lock, error)
	Show(ctx context.Context, opt Options, req repo.Request, name string, rep repo.Reporter) ([]repo.PackageInfo, error)

	CacheStats(ctx context.Context, opt Options) (*CacheUsage, error)
	CacheList(ctx context.Context, opt Options) ([]Blob, error)
	CacheVerify(ctx context.Context, opt Options) (*VerifyReport, error)
	CachePrune(ctx context.Context, opt Options, p PruneOptions) (*PruneReport, error)

	// Status describes the service's own state: its cache and its work
	// sharing. The server adds what it knows itself (process, operations).
	Status(ctx context.Context) (*Status, error)
}

// Options are the client's settings that change what a request does.
// CacheDir is empty unless the client chose a cache explicitly; Keys are
// extra trusted key files.
type Options struct {
	Mirror         string   `json:"mirror,omitempty"`
	SecurityMirror string   `json:"securityMirror,omitempty"`
	Offline        bool     `json:"offline,omitempty"`
	CacheDir       string   `json:"cacheDir,omitempty"`
	Keys           []string `json:"keys,omitempty"`
}

// BuildRequest is one build; it mirrors the engine's BuildRequest field for
// field (see that type for the meaning of each).
type BuildRequest struct {
	Request     repo.Request      `json:"request"`
	Lock        *repo.Lock        `json:"lock,omitempty"`
	Outputs     []string          `json:"outputs"`
	Tag         string            `json:"tag,omitempty"`
	Trim        string            `json:"trim,omitempty"`
	Scripts     bool              `json:"scripts,omitempty"`
	Users       []string          `json:"users,omitempty"`
	Epoch       time.Time         `json:"epoch,omitempty"`
	Env         []string          `json:"env,omitempty"`
	Cmd         []string          `json:"cmd,omitempty"`
	Entrypoint  []string          `json:"entrypoint,omitempty"`
	WorkingDir  string            `json:"workingDir,omitempty"`
	User        string            `json:"user,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Layering    string            `json:"layering,omitempty"`
	Platforms   []Platform        `json:"platforms,omitempty"`
}

// BuildLayer is one layer of a built image; it mirrors the engine's
// ImageLayer.
type BuildLayer struct {
	Digest   string   `json:"digest"`
	Size     int64    `json:"size"`
	Packages []string `json:"packages,omitempty"`
}

// Platform is one architecture of a multi-architecture build.
type Platform struct {
	Request repo.Request `json:"request"`
	Lock    *repo.Lock   `json:"lock,omitempty"`
}

// BuildResult is what a build produced; it mirrors the engine's.
type BuildResult struct {
	Lock           *repo.Lock     `json:"lock"`
	LayerDigest    string         `json:"layerDigest"`
	LayerSize      int64          `json:"layerSize"`
	Layers         []BuildLayer   `json:"layers,omitempty"`
	ImageID        string         `json:"imageId,omitempty"`
	ManifestDigest string         `json:"manifestDigest,omitempty"`
	Outputs        []string       `json:"outputs"`
	SBOM           []string       `json:"sbom,omitempty"`
	Warnings       []string       `json:"warnings,omitempty"`
	Cached         bool           `json:"cached,omitempty"`
	Platforms      []*BuildResult `json:"platforms,omitempty"`
}

// Count is a number of files and their bytes.
type Count struct {
	Files int   `json:"files"`
	Bytes int64 `json:"bytes"`
}

// CacheUsage is what the cache occupies, by kind of blob.
type CacheUsage struct {
	Dir        string           `json:"dir"`
	Blobs      Count            `json:"blobs"`
	Kinds      map[string]Count `json:"kinds"`
	Referenced Count            `json:"referenced"`
	Temp       Count            `json:"temp"`
	Quarantine Count            `json:"quarantine"`
	MetaBytes  int64            `json:"metaBytes"`
}

// Blob describes one cached blob.
type Blob struct {
	Digest   string    `json:"digest"`
	Size     int64     `json:"size"`
	Kind     string    `json:"kind,omitempty"`
	Name     string    `json:"name,omitempty"`
	Added    time.Time `json:"added"`
	LastUsed time.Time `json:"lastUsed"`
	Refs     []string  `json:"refs,omitempty"`
}

// Problem is one inconsistency a cache verification found.
type Problem struct {
	Kind     string `json:"kind"`
	Digest   string `json:"digest,omitempty"`
	Key      string `json:"key,omitempty"`
	Detail   string `json:"detail,omitempty"`
	Repaired bool   `json:"repaired"`
}

// VerifyReport is the result of a cache verification.
type VerifyReport struct {
	Blobs       Count     `json:"blobs"`
	Problems    []Problem `json:"problems,omitempty"`
	TempRemoved Count     `json:"tempRemoved"`
}

// OK reports whether every problem found was repaired.
func (r *VerifyReport) OK() bool {
	for _, p := range r.Problems {
		if !p.Repaired {
			return false
		}
	}
	return true
}

// PruneOptions select what a prune removes.
type PruneOptions struct {
	OlderThan      time.Duration `json:"olderThan,omitempty"`
	KeepReferenced bool          `json:"keepReferenced,omitempty"`
	MaxBytes       int64         `json:"maxBytes,omitempty"`
	All            bool          `json:"all,omitempty"`
	DryRun         bool          `json:"dryRun,omitempty"`
}

// PruneReport says what a prune removed.
type PruneReport struct {
	Removed    []Blob `json:"removed,omitempty"`
	Freed      Count  `json:"freed"`
	Kept       Count  `json:"kept"`
	Temp       Count  `json:"temp"`
	Quarantine Count  `json:"quarantine"`
}

// ShareStats count the work shared between concurrent requests.
type ShareStats struct {
	Upstream      int64            `json:"upstream"`
	Joined        int64            `json:"joined"`
	UpstreamBytes int64            `json:"upstreamBytes"`
	InFlight      int64            `json:"inFlight"`
	Work          int64            `json:"work"`
	WorkJoined    int64            `json:"workJoined"`
	PerURL        map[string]int64 `json:"perURL,omitempty"`
}

// Daemon describes the serving process.
type Daemon struct {
	Version      string    `json:"version"`
	PID          int       `json:"pid"`
	UID          uint32    `json:"uid"`
	Socket       string    `json:"socket"`
	CacheDir     string    `json:"cacheDir"`
	Started      time.Time `json:"started"`
	RSSBytes     int64     `json:"rssBytes"`
	MaxBuilds    int       `json:"maxBuilds"`
	MaxDownloads int       `json:"maxDownloads"`
	Draining     bool      `json:"draining"`
	Requests     int64     `json:"requests"`
}

// Operation is one request a daemon is working on.
type Operation struct {
	ID          string    `json:"id"`
	Method      string    `json:"method"`
	Distro      string    `json:"distro,omitempty"`
	Packages    []string  `json:"packages,omitempty"`
	ClientUID   uint32    `json:"clientUid"`
	ClientPID   int       `json:"clientPid"`
	Started     time.Time `json:"started"`
	Phase       string    `json:"phase,omitempty"`
	LastMessage string    `json:"lastMessage,omitempty"`
}

// Status is what `rootfsd status` shows.
type Status struct {
	Daemon     Daemon      `json:"daemon"`
	Operations []Operation `json:"operations"`
	Share      ShareStats  `json:"share"`
	Cache      *CacheUsage `json:"cache,omitempty"`
}
