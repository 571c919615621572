package main

import (
	"context"
	"fmt"
	"os"

	"github.com/rootfsd/rootfsd/cmd/rootfsd/engine"
	"github.com/rootfsd/rootfsd/store"
	"github.com/rootfsd/rootfsd/store/image/publish"
)

// needsStorage reports whether a build commits into containers-storage.
func needsStorage(req engine.BuildRequest) bool {
	if req.Tag != "" {
		return true
	}
	for _, o := range req.Outputs {
		if o == "containers-storage" {
			return true
		}
	}
	return false
}

// rootless reports whether this process is an unprivileged user, inside a
// user namespace of its own or not.
func rootless() bool { return os.Geteuid() != 0 || publish.InUserNamespace() }

// enterUserNamespace re-executes rootfsd inside a user namespace (mapped
// with newuidmap/newgidmap from the user's subordinate ids, as podman and
// buildah do) when an unprivileged user commits into containers-storage,
// which needs the image's owners to exist. It returns nil at once for
// root and in the re-executed child; the parent exits with the child's
// status. Other outputs never need this. A store that nothing has set up
// yet gets the graph driver the user's podman uses (see
// publish.RootlessDriver); when podman does not answer, a warning says so
// and containers-storage picks the driver itself.
func (g *globals) enterUserNamespace(ctx context.Context, req engine.BuildRequest) error {
	if !needsStorage(req) || os.Geteuid() == 0 {
		return nil
	}
	// Inside the namespace the process is uid 0, which would pick the
	// system cache: keep the user's.
	if os.Getenv("ROOTFSD_CACHE_DIR") == "" {
		if dir, err := store.DefaultDir(); err == nil {
			os.Setenv("ROOTFSD_CACHE_DIR", dir)
		}
	}
	if err := publish.CheckUserNamespace(); err != nil {
		return err
	}
	if os.Getenv("STORAGE_DRIVER") == "" {
		driver, err := publish.RootlessDriver(ctx)
		if err != nil {
			fmt.Fprintf(g.stderr, "rootfsd: warning: %v: containers-storage picks the graph driver itself, podman may not list the image\n", err)
		}
		if driver != "" {
			os.Setenv("STORAGE_DRIVER", driver) // read by the re-executed child's containers-storage
		}
	}
	return publish.ReexecInUserNamespace()
}
