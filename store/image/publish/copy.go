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

// tempLayout has write fill a fresh OCI layout below workDir (under
// layoutTag) and returns a reference to it, what write returned and a
// function removing it.
func tempLayout(workDir string, write func(dir string) (*image.Manifest, error)) (types.ImageReference, *image.Manifest, func(), error) {
	dir, err := os.MkdirTemp(workDir, "rootfsd-publish-")
	if err != nil {
		return nil, nil, nil, fmt.Errorf("publish: temporary layout: %w", err)
	}
	cleanup := func() { os.RemoveAll(dir) }
	m, err := write(dir)
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

// copyOptions: preserve keeps the digests as they are; all copies every
// image of an index (else containers/image picks the host's platform).
type copyOptions struct{ preserve, all bool }

// copyImage copies src to dest and returns the manifest (or index) written.
func copyImage(ctx context.Context, dest, src types.ImageReference, sys *types.SystemContext, o copyOptions) ([]byte, error) {
	pc, err := acceptAnything()
	if err != nil {
		return nil, err
	}
	defer pc.Destroy()
	sel := copy.CopySystemImage
	if o.all {
		sel = copy.CopyAllImages
	}
	return copy.Image(ctx, pc, dest, src, &copy.Options{
		SourceCtx:          &types.SystemContext{},
		DestinationCtx:     sys,
		PreserveDigests:    o.preserve,
		ImageListSelection: sel,
	})
}
