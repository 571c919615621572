package publish

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strings"

	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/types"

	"github.com/rootfsd/rootfsd/repo"
	"github.com/rootfsd/rootfsd/store/image"
)

// PushOptions tune Push. The zero value pushes gzip layers over TLS with
// the user's usual credentials.
type PushOptions struct {
	// AuthFile is the credentials file. When empty, REGISTRY_AUTH_FILE is
	// used if set, else containers' defaults:
	// $XDG_RUNTIME_DIR/containers/auth.json, ~/.config/containers/auth.json,
	// ~/.docker/config.json (as podman login and docker login write them).
	AuthFile string
	// Insecure skips TLS verification and allows plain HTTP, like
	// skopeo's --dest-tls-verify=false. For registries on 127.0.0.1 and
	// tests; registries.conf can mark a registry insecure too.
	Insecure bool
	// CertDir holds the registry's CA and client certificates.
	CertDir string
	// Compression of the pushed layers (image.Gzip by default).
	Compression image.Compression
	// WorkDir is where the temporary layout goes (os.TempDir when empty).
	WorkDir string
	// Report receives a commit event when the push is done.
	Report repo.Reporter
}

// Push uploads img to a registry as ref ("docker://HOST/NAME:TAG" or
// "HOST/NAME:TAG") and returns the manifest digest, which is the one
// img.Manifest gives for the same compression: the copy refuses to
// change it.
func Push(ctx context.Context, img *image.Image, ref string, opts PushOptions) (string, error) {
	return push(ctx, ref, opts, false, func(dir string) (*image.Manifest, error) {
		return img.WriteOCI(ctx, dir, image.LayoutOptions{Tag: layoutTag, Compression: opts.Compression})
	})
}

// PushIndex uploads a multi-platform image: every image of ix, then the
// index itself as ref. It returns the index digest, which is the one
// ix.Manifest gives for the same compression: the copy keeps every digest.
func PushIndex(ctx context.Context, ix *image.Index, ref string, opts PushOptions) (string, error) {
	return push(ctx, ref, opts, true, func(dir string) (*image.Manifest, error) {
		return ix.WriteOCI(ctx, dir, image.LayoutOptions{Tag: layoutTag, Compression: opts.Compression})
	})
}

// push copies what write puts into a temporary layout to ref.
func push(ctx context.Context, ref string, opts PushOptions, all bool, write func(dir string) (*image.Manifest, error)) (string, error) {
	name := strings.TrimPrefix(ref, "docker://")
	if _, _, err := image.SplitReference(name); err != nil {
		return "", fmt.Errorf("publish: push %s: %w", ref, err)
	}
	dest, err := docker.ParseReference("//" + name)
	if err != nil {
		return "", fmt.Errorf("publish: push %s: %w", ref, err)
	}
	src, m, cleanup, err := tempLayout(opts.WorkDir, write)
	if err != nil {
		return "", err
	}
	defer cleanup()
	sys := &types.SystemContext{AuthFilePath: opts.AuthFile, DockerCertPath: opts.CertDir}
	if sys.AuthFilePath == "" {
		sys.AuthFilePath = os.Getenv("REGISTRY_AUTH_FILE")
	}
	if opts.Insecure {
		sys.DockerInsecureSkipTLSVerify = types.OptionalBoolTrue
	}
	manifest, err := copyImage(ctx, dest, src, sys, copyOptions{preserve: true, all: all})
	if err != nil {
		return "", fmt.Errorf("publish: push %s: %w", ref, err)
	}
	sum := sha256.Sum256(manifest)
	got := "sha256:" + hex.EncodeToString(sum[:])
	if got != m.Digest {
		return got, fmt.Errorf("publish: push %s: registry holds manifest %s, not %s", ref, got, m.Digest)
	}
	opts.Report.Report(repo.Event{Kind: repo.EventCommit, Name: ref, Message: "pushed " + name + "@" + got})
	return got, nil
}
