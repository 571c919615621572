package image

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	digest "github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// Index is a multi-platform image: an OCI image index listing one image
// manifest per platform (os, architecture, variant), each platform taken
// from its image's config. It does not own the images: close them after
// the index is no longer used.
type Index struct {
	images    []*Image
	platforms []v1.Platform
	created   time.Time

	mu        sync.Mutex
	manifests map[Compression]*Manifest
}

// NewIndex lists imgs, in this order, in an index. Two images of the same
// platform are an error: a client could not choose between them.
func NewIndex(imgs []*Image) (*Index, error) {
	if len(imgs) == 0 {
		return nil, errors.New("image: index: no images")
	}
	ix := &Index{manifests: map[Compression]*Manifest{}}
	seen := map[string]bool{}
	for i, img := range imgs {
		var cfg v1.Image
		if err := json.Unmarshal(img.config, &cfg); err != nil {
			return nil, fmt.Errorf("image: index: image %d: config: %w", i+1, err)
		}
		p := v1.Platform{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant}
		key := platformString(p)
		if seen[key] {
			return nil, fmt.Errorf("image: index: two images for %s", key)
		}
		seen[key] = true
		ix.images = append(ix.images, img)
		ix.platforms = append(ix.platforms, p)
		if t := img.mtime(); t.After(ix.created) {
			ix.created = t
		}
	}
	return ix, nil
}

// platformString is "os/arch[/variant]", as podman and skopeo write it.
func platformString(p v1.Platform) string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// Platforms returns "os/arch[/variant]" of each image, in index order.
func (ix *Index) Platforms() []string {
	out := make([]string, len(ix.platforms))
	for i, p := range ix.platforms {
		out[i] = platformString(p)
	}
	return out
}

// Manifest returns the serialized image index for compression c, whose
// entries are the images' manifests for c with their platforms.
func (ix *Index) Manifest(ctx context.Context, c Compression) (*Manifest, error) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if m := ix.manifests[c]; m != nil {
		return m, nil
	}
	idx := v1.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: v1.MediaTypeImageIndex}
	for i, img := range ix.images {
		m, err := img.Manifest(ctx, c)
		if err != nil {
			return nil, err
		}
		d := m.Descriptor(nil)
		p := ix.platforms[i]
		d.Platform = &p
		idx.Manifests = append(idx.Manifests, d)
	}
	data, err := json.Marshal(idx)
	if err != nil {
		return nil, fmt.Errorf("image: index: %w", err)
	}
	m := &Manifest{Bytes: data, Digest: digest.FromBytes(data).String(), MediaType: v1.MediaTypeImageIndex}
	ix.manifests[c] = m
	return m, nil
}

// layout is the content of an OCI layout holding the index under the tag
// of opts: index.json names the index, whose blob names the images.
func (ix *Index) layout(ctx context.Context, opts LayoutOptions) (*layoutContent, error) {
	tag, err := opts.tag()
	if err != nil {
		return nil, err
	}
	m, err := ix.Manifest(ctx, opts.Compression)
	if err != nil {
		return nil, err
	}
	lc := &layoutContent{manifest: m, entries: []v1.Descriptor{m.Descriptor(map[string]string{v1.AnnotationRefName: tag})}}
	seen := map[string]bool{}
	add := func(b layoutBlob) {
		if !seen[b.hex] {
			seen[b.hex] = true
			lc.blobs = append(lc.blobs, b)
		}
	}
	add(memLayoutBlob(m.Bytes))
	for _, img := range ix.images {
		one, err := img.layout(ctx, LayoutOptions{Tag: tag, Compression: opts.Compression})
		if err != nil {
			return nil, err
		}
		for _, b := range one.blobs {
			add(b)
		}
	}
	sort.Slice(lc.blobs, func(i, j int) bool { return lc.blobs[i].hex < lc.blobs[j].hex })
	return lc, nil
}

// WriteOCI writes the index and its images into the OCI layout at dir
// (oci:DIR[:TAG]), as Image.WriteOCI writes one image: an existing layout
// is added to, and an entry of the same tag is replaced. index.json names
// the image index (mediaType application/vnd.oci.image.index.v1+json),
// which is what skopeo and podman read as a multi-platform image. It
// returns the index written.
func (ix *Index) WriteOCI(ctx context.Context, dir string, opts LayoutOptions) (*Manifest, error) {
	lc, err := ix.layout(ctx, opts)
	if err != nil {
		return nil, err
	}
	return writeLayoutDir(ctx, dir, lc)
}

// WriteOCIArchive writes the index and its images as a deterministic tar
// of an OCI layout (oci-archive:FILE[:TAG]).
func (ix *Index) WriteOCIArchive(ctx context.Context, path string, opts LayoutOptions) (*Manifest, error) {
	lc, err := ix.layout(ctx, opts)
	if err != nil {
		return nil, err
	}
	return writeLayoutArchive(ctx, path, lc, ix.created)
}
