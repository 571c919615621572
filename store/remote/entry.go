package remote

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"
)

// ArtifactType marks rootfsd's cache manifests.
const ArtifactType = "application/vnd.rootfsd.cache.v1"

// maxManifest bounds a cache manifest read from the registry.
const maxManifest = 64 << 10

// Entry is one cached blob: its digest ("sha256:<hex>"), size and type.
type Entry struct {
	Digest    string
	Size      int64
	MediaType string
}

var hex64 = regexp.MustCompile(`^[0-9a-f]{64}$`)

// LayerTag is the tag of the layer built for key (a hex SHA256).
func LayerTag(key string) (string, error) {
	if !hex64.MatchString(key) {
		return "", fmt.Errorf("registry cache: layer key %q is not a hex SHA256", key)
	}
	return "layer-" + key, nil
}

// PackageTag is the tag of the package file whose SHA256 is sum (hex).
func PackageTag(sum string) (string, error) {
	if !hex64.MatchString(sum) {
		return "", fmt.Errorf("registry cache: package hash %q is not a hex SHA256", sum)
	}
	return "pkg-" + sum, nil
}

// GzipTag is the tag of the gzip-compressed form (at level, as image
// exports write it) of the uncompressed layer diffID (a hex SHA256).
func GzipTag(level int, diffID string) (string, error) {
	if !hex64.MatchString(diffID) || level < 0 || level > 9 {
		return "", fmt.Errorf("registry cache: gzip entry for %q at level %d: want a hex SHA256 and a level 0-9", diffID, level)
	}
	return fmt.Sprintf("gzip%d-%s", level, diffID), nil
}

// Pull finds the entry tagged tag and opens its blob. The blob is larger
// than maxSize is refused. The reader is not verified: the caller puts it
// into the store with e.Digest as the expected digest (and, for packages,
// compares e.Digest with the hash it trusts first).
func (c *Cache) Pull(ctx context.Context, tag string, maxSize int64) (Entry, io.ReadCloser, error) {
	l, err := c.resolve(ctx, tag, maxSize)
	if err != nil {
		return Entry{}, nil, err
	}
	rc, err := c.repo.Blobs().Fetch(ctx, l)
	if err != nil {
		return Entry{}, nil, fmt.Errorf("registry cache %s:%s: blob %s: %w", c.ref, tag, l.Digest, err)
	}
	return Entry{Digest: l.Digest.String(), Size: l.Size, MediaType: l.MediaType}, rc, nil
}

// Resolve finds the entry tagged tag without fetching its blob: what the
// registry says the blob is (digest, size, type), under the same checks
// as Pull.
func (c *Cache) Resolve(ctx context.Context, tag string, maxSize int64) (Entry, error) {
	l, err := c.resolve(ctx, tag, maxSize)
	if err != nil {
		return Entry{}, err
	}
	return Entry{Digest: l.Digest.String(), Size: l.Size, MediaType: l.MediaType}, nil
}

// resolve reads and checks the cache manifest tagged tag and returns the
// descriptor of its one blob.
func (c *Cache) resolve(ctx context.Context, tag string, maxSize int64) (ocispec.Descriptor, error) {
	var none ocispec.Descriptor
	desc, err := c.repo.Resolve(ctx, tag)
	if err != nil {
		if errors.Is(err, errdef.ErrNotFound) {
			return none, fmt.Errorf("%s:%s: %w", c.ref, tag, ErrNotFound)
		}
		return none, fmt.Errorf("registry cache %s:%s: %w", c.ref, tag, err)
	}
	if desc.Size > maxManifest || desc.MediaType != ocispec.MediaTypeImageManifest {
		return none, fmt.Errorf("registry cache %s:%s: not a cache manifest (%s, %d bytes)", c.ref, tag, desc.MediaType, desc.Size)
	}
	raw, err := content.FetchAll(ctx, c.repo.Manifests(), desc) // checks the digest
	if err != nil {
		return none, fmt.Errorf("registry cache %s:%s: manifest: %w", c.ref, tag, err)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return none, fmt.Errorf("registry cache %s:%s: manifest: %w", c.ref, tag, err)
	}
	if m.ArtifactType != ArtifactType || len(m.Layers) != 1 {
		return none, fmt.Errorf("registry cache %s:%s: not a rootfsd cache manifest", c.ref, tag)
	}
	l := m.Layers[0]
	if err := l.Digest.Validate(); err != nil || l.Digest.Algorithm() != digest.SHA256 {
		return none, fmt.Errorf("registry cache %s:%s: layer digest %q: not sha256", c.ref, tag, l.Digest)
	}
	if l.Size < 0 || l.Size > maxSize {
		return none, fmt.Errorf("registry cache %s:%s: blob of %d bytes over the limit of %d", c.ref, tag, l.Size, maxSize)
	}
	return l, nil
}

// Has reports whether the registry has an entry tagged tag.
func (c *Cache) Has(ctx context.Context, tag string) (bool, error) {
	_, err := c.repo.Resolve(ctx, tag)
	if errors.Is(err, errdef.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Push uploads the blob of e (unless the registry has it) and a manifest
// naming it, tagged tag. open is called at most once.
func (c *Cache) Push(ctx context.Context, tag string, e Entry, open func() (io.ReadCloser, error)) error {
	d, err := digest.Parse(e.Digest)
	if err != nil {
		return fmt.Errorf("registry cache push %s: %w", tag, err)
	}
	layer := ocispec.Descriptor{MediaType: e.MediaType, Digest: d, Size: e.Size}
	if layer.MediaType == "" {
		layer.MediaType = "application/octet-stream"
	}
	ok, err := c.repo.Blobs().Exists(ctx, layer)
	if err != nil {
		return fmt.Errorf("registry cache push %s: %w", tag, err)
	}
	if !ok {
		rc, err := open()
		if err != nil {
			return fmt.Errorf("registry cache push %s: %w", tag, err)
		}
		err = c.repo.Blobs().Push(ctx, layer, rc)
		rc.Close()
		if err != nil {
			return fmt.Errorf("registry cache push %s: blob: %w", tag, err)
		}
	}
	empty := ocispec.DescriptorEmptyJSON
	if err := c.ensureConfig(ctx); err != nil {
		return fmt.Errorf("registry cache push %s: config: %w", tag, err)
	}
	m := ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest,
		ArtifactType: ArtifactType, Config: ocispec.Descriptor{MediaType: empty.MediaType, Digest: empty.Digest, Size: empty.Size},
		Layers: []ocispec.Descriptor{layer}}
	raw, err := json.Marshal(m)
	if err != nil {
		return err
	}
	md := content.NewDescriptorFromBytes(ocispec.MediaTypeImageManifest, raw)
	if err := c.repo.Manifests().PushReference(ctx, md, bytes.NewReader(raw), tag); err != nil {
		return fmt.Errorf("registry cache push %s: manifest: %w", tag, err)
	}
	return nil
}

// ensureConfig uploads the empty config blob of cache manifests once per
// Cache, unless the registry has it.
func (c *Cache) ensureConfig(ctx context.Context) error {
	c.configMu.Lock()
	defer c.configMu.Unlock()
	if c.configDone {
		return nil
	}
	empty := ocispec.DescriptorEmptyJSON
	ok, err := c.repo.Blobs().Exists(ctx, empty)
	if err != nil {
		return err
	}
	if !ok {
		if err := c.repo.Blobs().Push(ctx, empty, bytes.NewReader(empty.Data)); err != nil && !errors.Is(err, errdef.ErrAlreadyExists) {
			return err
		}
	}
	c.configDone = true
	return nil
}
