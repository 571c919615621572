package engine

import (
	"context"
	"io/fs"
	"time"

	"github.com/rootfsd/rootfsd/repo"
	"github.com/rootfsd/rootfsd/repo/check"
	"github.com/rootfsd/rootfsd/repo/overlay"
)

// BuildRequest is one build: what to install (a request, or a lock that
// pins it) and where the result goes.
type BuildRequest struct {
	Request repo.Request `json:"request"`
	// Lock, when set, replaces resolution: exactly its packages are built.
	Lock *repo.Lock `json:"lock,omitempty"`
	// Outputs are "tar:FILE", "dir:PATH", "oci:DIR", "oci-archive:FILE",
	// "docker-archive:FILE", "docker://REF" or "containers-storage".
	Outputs []string `json:"outputs"`
	// Tag names the image in containers-storage (implies that output).
	Tag string `json:"tag,omitempty"`
	// Trim is "none", "docs" or "minimal".
	Trim string `json:"trim,omitempty"`
	// Scripts runs real maintainer scripts in a sandbox where rootfsd has
	// no built-in equivalent.
	Scripts bool `json:"scripts,omitempty"`
	// Layering is "single" (the default: one layer) or "groups" (a layer
	// per base or large package, then the rest; repo/layering). It
	// changes image outputs only: tar and dir hold the full tree.
	Layering string `json:"layering,omitempty"`
	// Users are accounts to add, "NAME[:UID]".
	Users []string `json:"users,omitempty"`
	// Epoch is SOURCE_DATE_EPOCH; zero means the lock's newest index date,
	// or now.
	Epoch time.Time `json:"epoch,omitempty"`
	// Image configuration.
	Env         []string          `json:"env,omitempty"`
	Cmd         []string          `json:"cmd,omitempty"`
	Entrypoint  []string          `json:"entrypoint,omitempty"`
	WorkingDir  string            `json:"workingDir,omitempty"`
	User        string            `json:"user,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	// Overlay adds accounts, paths and local files on top of the packages
	// (spec files: and --add).
	Overlay *overlay.Overlay `json:"overlay,omitempty"`
	// Platforms, when set, make a multi-architecture build: one image per
	// entry, each from its own request or lock (Request and Lock above are
	// then unused), built concurrently into the one cache. Outputs and Tag
	// with "{arch}" in them are written once per architecture; oci:,
	// oci-archive: and docker:// outputs without it get an OCI image index
	// of all the images; a Tag without it commits the image of this
	// machine's architecture (containers-storage holds one image per name).
	Platforms []Platform `json:"platforms,omitempty"`
	// TreeCheck, when set, checks the built tree while its layer is
	// written (on another core), so that the caller need not read an
	// output back: BuildResult.TreeFindings. It runs in this process only
	// (a daemon never sees it), and not for a layer that came from a
	// cache.
	TreeCheck TreeCheck `json:"-"`
}

// TreeCheck checks the tree of a build, as fsys, built from lock.
type TreeCheck func(ctx context.Context, fsys fs.ReadLinkFS, lock *repo.Lock) ([]check.Finding, error)

// Platform is one architecture of a multi-architecture build.
type Platform struct {
	Request repo.Request `json:"request"`
	Lock    *repo.Lock   `json:"lock,omitempty"`
}

// Arch is the architecture in the request's (distribution's) spelling.
func (p Platform) Arch() string {
	if p.Lock != nil {
		return p.Lock.Arch
	}
	return p.Request.Arch
}

// BuildResult is what a build produced.
type BuildResult struct {
	Lock *repo.Lock `json:"lock"`
	// LayerDigest is the SHA256 of the uncompressed rootfs layer tar.
	LayerDigest string `json:"layerDigest"`
	LayerSize   int64  `json:"layerSize"`
	// Layers are the image's layers, bottom first, when an image was
	// written: the full layer alone, or its split.
	Layers []ImageLayer `json:"layers,omitempty"`
	// ImageID and ManifestDigest are set when an image was written.
	ImageID        string   `json:"imageId,omitempty"`
	ManifestDigest string   `json:"manifestDigest,omitempty"`
	Outputs        []string `json:"outputs"`
	SBOM           []string `json:"sbom,omitempty"`
	Warnings       []string `json:"warnings,omitempty"`
	// Cached is true when the layer came from the cache unchanged.
	Cached bool `json:"cached,omitempty"`
	// Platforms are the results per architecture of a multi-architecture
	// build; then ManifestDigest is the image index's digest, Outputs are
	// the shared outputs, and Lock and the layer fields are unset.
	Platforms []*BuildResult `json:"platforms,omitempty"`
	// TreeFindings are what BuildRequest.TreeCheck found, when
	// TreeChecked: it ran and succeeded.
	TreeFindings []check.Finding `json:"-"`
	TreeChecked  bool            `json:"-"`
}
