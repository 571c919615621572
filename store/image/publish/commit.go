package publish

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	istorage "go.podman.io/image/v5/storage"
	"go.podman.io/storage"
	"go.podman.io/storage/pkg/unshare"

	"github.com/rootfsd/rootfsd/repo"
	"github.com/rootfsd/rootfsd/store/image"
)

// CommitOptions tune Commit. The zero value uses the storage podman uses.
type CommitOptions struct {
	// GraphRoot, RunRoot and Driver override the storage location and
	// graph driver; empty values come from storage.conf
	// ($CONTAINERS_STORAGE_CONF, ~/.config/containers/storage.conf,
	// /etc/containers/storage.conf) and containers' defaults.
	GraphRoot string
	RunRoot   string
	Driver    string
	// DriverOptions replace the configured graph driver options.
	DriverOptions []string
	// WorkDir is where the temporary layout goes (os.TempDir when empty).
	WorkDir string
	// Report receives a commit event when the image is stored.
	Report repo.Reporter
}

// CommitResult describes the stored image.
type CommitResult struct {
	// ID is the image ID, equal to img.ID() without "sha256:".
	ID string
	// Name is the name the image was tagged with, e.g. "localhost/ca:24.04".
	Name string
	// ManifestDigest is the digest of the stored manifest ("sha256:...").
	ManifestDigest string
	// GraphRoot and Driver say which store it went to.
	GraphRoot string
	Driver    string
}

// ErrNeedsUserNamespace is returned by Commit for an unprivileged process
// outside a user namespace.
var ErrNeedsUserNamespace = errors.New("containers-storage needs root or a user namespace")

// StorageName is image.LocalName: the name podman and buildah give a
// local image ("ca" becomes "localhost/ca:latest").
func StorageName(tag string) (string, error) { return image.LocalName(tag) }

// Commit stores img in containers-storage under tag, with uncompressed
// layers applied exactly as the tars say. A layer already in the store
// (same diffID) is reused. The name moves to the new image only when it is
// complete: a failed commit leaves no image and does not touch an existing
// image of that name. An unprivileged caller must be in the user namespace
// ReexecInUserNamespace sets up, else the error wraps ErrNeedsUserNamespace.
func Commit(ctx context.Context, img *image.Image, tag string, opts CommitOptions) (*CommitResult, error) {
	name, err := StorageName(tag)
	if err != nil {
		return nil, fmt.Errorf("publish: containers-storage %s: %w", tag, err)
	}
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("publish: containers-storage %s: running as uid %d outside a user namespace: %w; "+
			"call ReexecInUserNamespace at the start of the program, or run it under `podman unshare` or `buildah unshare`",
			name, os.Geteuid(), ErrNeedsUserNamespace)
	}
	store, err := openStore(opts)
	if err != nil {
		return nil, err
	}
	defer store.Shutdown(false)
	if err := removePartialImages(store); err != nil {
		return nil, err
	}
	if err := removeAbandoned(store); err != nil { // pending.go
		return nil, err
	}
	want := strings.TrimPrefix(img.ID(), "sha256:")
	if _, err := store.Image(want); errors.Is(err, storage.ErrImageUnknown) {
		p, err := beginPending(store, want)
		if err != nil {
			return nil, err
		}
		defer p.done()
	}

	dest, err := istorage.Transport.ParseStoreReference(store, name)
	if err != nil {
		return nil, fmt.Errorf("publish: containers-storage %s: %w", name, err)
	}
	src, m, cleanup, err := tempLayout(opts.WorkDir, func(dir string) (*image.Manifest, error) {
		return img.WriteOCI(ctx, dir, image.LayoutOptions{Tag: layoutTag, Compression: image.Uncompressed, Link: true})
	})
	if err != nil {
		return nil, err
	}
	defer cleanup()
	if _, err := copyImage(ctx, dest, src, nil, copyOptions{}); err != nil {
		return nil, fmt.Errorf("publish: containers-storage %s: %w", name, err)
	}
	stored, err := istorage.Transport.GetStoreImage(store, dest)
	if err != nil {
		return nil, fmt.Errorf("publish: containers-storage %s: image missing after commit: %w", name, err)
	}
	if stored.ID != want {
		return nil, fmt.Errorf("publish: containers-storage %s: stored as image %s, not %s", name, stored.ID, want)
	}
	res := &CommitResult{ID: stored.ID, Name: name, ManifestDigest: m.Digest, GraphRoot: store.GraphRoot(), Driver: store.GraphDriverName()}
	opts.Report.Report(repo.Event{Kind: repo.EventCommit, Name: name, Message: "committed " + name + " (image " + stored.ID[:12] + ")"})
	return res, nil
}

// openStore opens containers-storage with containers' configuration and
// the overrides of opts.
func openStore(opts CommitOptions) (storage.Store, error) {
	so, err := storage.DefaultStoreOptions()
	if err != nil {
		return nil, fmt.Errorf("publish: containers-storage configuration: %w", err)
	}
	if opts.GraphRoot != "" {
		so.GraphRoot = opts.GraphRoot
	}
	if opts.RunRoot != "" {
		so.RunRoot = opts.RunRoot
	}
	if opts.Driver != "" {
		so.GraphDriverName = opts.Driver
	}
	if so.GraphDriverName == "" {
		so.GraphDriverName = priorDriver(so.GraphRoot)
	}
	if opts.DriverOptions != nil {
		so.GraphDriverOptions = opts.DriverOptions
	}
	st, err := storage.GetStore(so)
	if err != nil {
		hint := ""
		if unshare.IsRootless() {
			hint = " (rootless: check that the user namespace maps your /etc/subuid range, and that overlay or fuse-overlayfs works here, or set driver = \"vfs\" in ~/.config/containers/storage.conf)"
		}
		return nil, fmt.Errorf("publish: containers-storage at %s (driver %q): %w%s", so.GraphRoot, so.GraphDriverName, err, hint)
	}
	return st, nil
}

// priorDriver returns the graph driver a store already uses when exactly
// one driver has state in it, else "". containers/storage does this itself
// but skips vfs, and tools built on older versions of it (podman 4.3 in
// Debian 12, for one) settle on vfs for rootless stores: without this, an
// image committed to such a store would go to an overlay store beside it,
// invisible to that podman.
func priorDriver(graphRoot string) string {
	found := ""
	for _, d := range []string{"overlay", "vfs", "btrfs", "zfs"} {
		if fi, err := os.Stat(filepath.Join(graphRoot, d+"-layers")); err == nil && fi.IsDir() {
			if found != "" {
				return ""
			}
			found = d
		}
	}
	return found
}
