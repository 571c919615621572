package publish

import (
	"context"
	"fmt"
	"os"

	"go.podman.io/image/v5/copy"
	"go.podman.io/image/v5/oci/layout"
	"go.podman.io/image/v5/signature"
	"go.podman.io/image/v5/types"

	"github.com/rootfsd/rootfsd/store/image"
)

// layoutTag names the image in the temporary layouts.
const layoutTag = "rootfsd"

// tempLayout writes img into a fresh OCI layout below workDir and returns
// a reference to it and a function removing it.
func tempLayout(ctx context.Context, img *image.Image, workDir string, c image.Compression) (types.ImageReference, *image.Manifest, func(), error) {
	dir, err := os.MkdirTemp(workDir, "rootfsd-publish-")
	if err != nil {
		return nil, nil, nil, fmt.Errorf("publish: temporary layout: %w", err)
	}
	cleanup := func() { os.RemoveAll(dir) }
	m, err := img.WriteOCI(ctx, dir, image.LayoutOptions{Tag: layoutTag, Compression: c})
	if err != nil {
		cleanup()
		return nil, nil, nil, err
	}
	ref, err := layout.NewReference(dir, layoutTag)
	if err != nil {
		cleanup()
		return nil, nil, nil, fmt.Errorf("publish: temporary layout: %w", err)
	}
	return ref, m, cleanup, nil
}

// acceptAnything is the signature policy for copies of images rootfsd
// built itself: there is no signature to check on our own layout, and the
// host's policy.json (which may demand signatures from a registry) is
// about pulls, not about what we write.
func acceptAnything() (*signature.PolicyContext, error) {
	pc, err := signature.NewPolicyContext(&signature.Policy{
		Default: signature.PolicyRequirements{signature.NewPRInsecureAcceptAnything()},
	})
	if err != nil {
		return nil, fmt.Errorf("publish: signature policy: %w", err)
	}
	return pc, nil
}

// copyImage copies src to dest keeping the digests as they are.
func copyImage(ctx context.Context, dest, src types.ImageReference, sys *types.SystemContext, preserve bool) ([]byte, error) {
	pc, err := acceptAnything()
	if err != nil {
		return nil, err
	}
	defer pc.Destroy()
	return copy.Image(ctx, pc, dest, src, &copy.Options{
		SourceCtx:       &types.SystemContext{},
		DestinationCtx:  sys,
		PreserveDigests: preserve,
	})
}
