package publish

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"go.podman.io/storage"
)

// podmanInfoTimeout bounds `podman info`, which sets up the user's store
// and pause process the first time.
const podmanInfoTimeout = time.Minute

// RootlessDriver returns the graph driver an unprivileged user's commit
// must use so that the user's podman sees the image, when nothing else
// decides it: no storage.conf names a driver and the user's store has no
// state yet, or state of several drivers. Tools built on different
// versions of containers-storage pick different drivers for such a store
// (Debian 12's podman 4.3 settles on vfs where this build of the library
// takes native overlay), so an image committed with the library's choice
// lands in a store beside podman's and `podman images` does not list it;
// and once both exist, neither choice is made any more. The answer is
// what `podman info` reports, which also creates the store as podman
// wants it (as the user's first podman command would). It returns "" when
// the configuration or the store already decides, or podman is not
// installed; an error when podman does not answer. Call it as the user,
// before ReexecInUserNamespace, and pass the driver on in STORAGE_DRIVER.
func RootlessDriver(ctx context.Context) (string, error) {
	so, err := storage.DefaultStoreOptions()
	if err != nil {
		return "", fmt.Errorf("publish: containers-storage configuration: %w", err)
	}
	if so.GraphDriverName != "" || priorDriver(so.GraphRoot) != "" {
		return "", nil
	}
	podman, err := exec.LookPath("podman")
	if err != nil {
		return "", nil
	}
	ctx, cancel := context.WithTimeout(ctx, podmanInfoTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, podman, "info", "--format", "{{.Store.GraphDriverName}}")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("publish: asking podman for the graph driver of %s: %w: %s", so.GraphRoot, err, strings.TrimSpace(stderr.String()))
	}
	fields := strings.Fields(string(out))
	if len(fields) == 0 {
		return "", fmt.Errorf("publish: podman info names no graph driver for %s", so.GraphRoot)
	}
	driver := fields[len(fields)-1]
	switch driver {
	case "overlay", "vfs", "zfs": // btrfs is not built in
		return driver, nil
	}
	return "", fmt.Errorf("publish: podman info: graph driver %q of %s is not one rootfsd commits with", driver, so.GraphRoot)
}
