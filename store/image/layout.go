package image

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/opencontainers/image-spec/specs-go"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// DefaultTag is the ref.name written when LayoutOptions.Tag is empty.
const DefaultTag = "latest"

// LayoutOptions control the OCI layout exports.
type LayoutOptions struct {
	// Tag is the org.opencontainers.image.ref.name of the image in
	// index.json (DefaultTag when empty), e.g. "localhost/ca:24.04" or
	// "24.04"; address it as oci:DIR:TAG.
	Tag string
	// Compression of the layer blobs (Gzip by default).
	Compression Compression
	// Referrers adds the image's attachments (SBOMs) as OCI 1.1 artifact
	// manifests to index.json. Off by default: tools that pick "the" image
	// of a layout without a tag (skopeo copy oci:DIR, podman load) refuse
	// a layout with more than one manifest.
	Referrers bool
	// Link hard-links uncompressed layers given by Path into the layout
	// instead of copying them, where both are on one filesystem (else it
	// copies). For temporary layouts read by a verifying reader, such as
	// containers/image's copy: the layout's blob is the source file, and
	// nothing may write to it.
	Link bool
}

// SplitLayoutDest splits the DEST of "oci:DEST" or "oci-archive:DEST" into
// a path and a tag the way skopeo and podman do: at the first colon, so
// "out/img:localhost/ca:24.04" is the path "out/img" with the tag
// "localhost/ca:24.04". A path that contains a colon cannot be given.
func SplitLayoutDest(dest string) (path, tag string) {
	path, tag, _ = strings.Cut(dest, ":")
	return path, tag
}

func (o LayoutOptions) tag() (string, error) {
	if o.Tag == "" {
		return DefaultTag, nil
	}
	return o.Tag, CheckTag(o.Tag)
}

// layoutBlob is one file below blobs/sha256.
type layoutBlob struct {
	hex  string
	size int64
	open func(ctx context.Context) (io.ReadCloser, error)
	// link is a file holding the blob that may be hard-linked instead
	// (LayoutOptions.Link).
	link string
}

// layoutContent is everything an OCI layout of the image holds.
type layoutContent struct {
	manifest *Manifest
	entries  []v1.Descriptor // index.json manifests, in order
	blobs    []layoutBlob    // sorted by hex, unique
}

// layout computes the layout's content for opts.
func (img *Image) layout(ctx context.Context, opts LayoutOptions) (*layoutContent, error) {
	tag, err := opts.tag()
	if err != nil {
		return nil, err
	}
	m, err := img.Manifest(ctx, opts.Compression)
	if err != nil {
		return nil, err
	}
	lc := &layoutContent{manifest: m}
	lc.entries = append(lc.entries, m.Descriptor(map[string]string{v1.AnnotationRefName: tag}))
	seen := map[string]bool{}
	add := func(b layoutBlob) {
		if !seen[b.hex] {
			seen[b.hex] = true
			lc.blobs = append(lc.blobs, b)
		}
	}
	add(memLayoutBlob(img.config))
	add(memLayoutBlob(m.Bytes))
	for i, d := range m.Layers {
		i := i
		lb := layoutBlob{hex: d.Digest.Encoded(), size: d.Size, open: func(ctx context.Context) (io.ReadCloser, error) {
			return img.openLayer(ctx, i, opts.Compression)
		}}
		if opts.Link && opts.Compression == Uncompressed {
			lb.link = img.layers[i].path
		}
		add(lb)
	}
	if opts.Referrers && len(img.attachments) > 0 {
		refs, blobs, err := img.referrers(m)
		if err != nil {
			return nil, err
		}
		for _, r := range refs {
			add(memLayoutBlob(r.Bytes))
			lc.entries = append(lc.entries, r.Descriptor(nil))
		}
		for _, h := range sortedKeys(blobs) {
			add(memLayoutBlob(blobs[h]))
		}
	}
	sort.Slice(lc.blobs, func(i, j int) bool { return lc.blobs[i].hex < lc.blobs[j].hex })
	return lc, nil
}

func memLayoutBlob(b []byte) layoutBlob {
	return layoutBlob{hex: sha256Hex(b), size: int64(len(b)), open: func(context.Context) (io.ReadCloser, error) { return memBlob(b), nil }}
}

// verified opens a layout blob and checks its digest and size as it is read.
func (b layoutBlob) verified(ctx context.Context) (io.ReadCloser, error) {
	rc, err := b.open(ctx)
	if err != nil {
		return nil, err
	}
	return readCloser{newVerifyReader(ctxReader{ctx, rc}, b.hex, b.size, "blob sha256:"+b.hex), rc}, nil
}

// indexJSON serializes an image index listing entries.
func indexJSON(entries []v1.Descriptor) ([]byte, error) {
	idx := v1.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: v1.MediaTypeImageIndex, Manifests: entries}
	b, err := json.Marshal(idx)
	if err != nil {
		return nil, fmt.Errorf("image: index.json: %w", err)
	}
	return b, nil
}

// ociLayoutFile is the content of the oci-layout marker file.
var ociLayoutFile = []byte(`{"imageLayoutVersion":"1.0.0"}`)
