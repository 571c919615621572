package image

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/gzip"
	digest "github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/rootfsd/rootfsd/repo"
)

// Compression selects how layers are stored in a manifest.
type Compression int

const (
	// Gzip layers (application/vnd.oci.image.layer.v1.tar+gzip): what
	// registries and every client expect. The default.
	Gzip Compression = iota
	// Uncompressed layers (application/vnd.oci.image.layer.v1.tar): no
	// compression cost, for local stores such as containers-storage.
	Uncompressed
)

func (c Compression) String() string {
	if c == Uncompressed {
		return "uncompressed"
	}
	return "gzip"
}

// Options tune New. The zero value is usable.
type Options struct {
	// Cache keeps compressed layer blobs between builds, keyed by diffID
	// and level (the rootfsd store implements repo.Cache). When nil, they
	// live in a temporary directory below WorkDir until Close.
	Cache repo.Cache
	// WorkDir is the parent of the temporary directory (os.TempDir when
	// empty).
	WorkDir string
	// GzipLevel is the gzip level (DefaultGzipLevel when 0). Changing it
	// changes the compressed blobs and so the manifest digest.
	GzipLevel int
	// Attachments are extra artifacts about the image, such as SBOMs.
	// They are written as OCI 1.1 referrers (manifests whose subject is
	// the image) into OCI layouts when LayoutOptions.Referrers is set.
	Attachments []Attachment
}

// DefaultGzipLevel is zlib's default level. Measured on 30 MB of a Debian
// /usr: level 6 compresses at 63 MB/s to 37 % of the size, level 1 at
// 91 MB/s to 42 %, level 9 at 14 MB/s to 36 %. Blobs are cached by
// diffID, so the cost is paid once per layer, and smaller pulls win.
const DefaultGzipLevel = 6

// Image is a container image built from layer tars. Its methods are safe
// for concurrent use. Close releases temporary files.
type Image struct {
	layers      []*layer
	config      []byte
	configHex   string
	annotations map[string]string
	attachments []Attachment
	created     string
	level       int

	mu        sync.Mutex
	blobs     blobStore
	tmp       *dirStore // blobs when no cache was given
	gz        []blobRef // per layer, once compressed
	closed    bool
	manifests map[Compression]*Manifest
}

// New builds the image config for layers and cfg. Layers are read only to
// compute missing diffIDs; compression happens on first need.
func New(ctx context.Context, layers []Layer, cfg Config, opts Options) (*Image, error) {
	if len(layers) == 0 {
		return nil, errors.New("image: no layers")
	}
	img := &Image{annotations: cfg.annotations(), created: cfg.created().Format("2006-01-02T15:04:05Z"), level: opts.GzipLevel, manifests: map[Compression]*Manifest{}}
	if img.level == 0 {
		img.level = DefaultGzipLevel
	}
	if img.level < gzip.HuffmanOnly || img.level > gzip.BestCompression {
		return nil, fmt.Errorf("image: gzip level %d out of range", img.level)
	}
	for i, l := range layers {
		rl, err := resolveLayer(ctx, i, l)
		if err != nil {
			return nil, err
		}
		img.layers = append(img.layers, rl)
	}
	oc, err := cfg.ociConfig(img.layers)
	if err != nil {
		return nil, err
	}
	if img.config, err = json.Marshal(oc); err != nil {
		return nil, fmt.Errorf("image: config: %w", err)
	}
	img.configHex = sha256Hex(img.config)
	for i, a := range opts.Attachments {
		if a.ArtifactType == "" || len(a.Data) == 0 || len(a.Data) > MaxAttachmentSize {
			return nil, fmt.Errorf("image: attachment %d (%s): needs an artifact type and 1 to %d bytes of data", i+1, a.Title, MaxAttachmentSize)
		}
		img.attachments = append(img.attachments, a)
	}
	if opts.Cache != nil {
		img.blobs = cacheStore{opts.Cache}
	} else {
		if img.tmp, err = newDirStore(opts.WorkDir); err != nil {
			return nil, err
		}
		img.blobs = img.tmp
	}
	return img, nil
}

// Close removes temporary blobs. The image cannot be exported afterwards.
func (img *Image) Close() error {
	img.mu.Lock()
	defer img.mu.Unlock()
	img.closed = true
	if img.tmp != nil {
		return img.tmp.close()
	}
	return nil
}

// ID is the image ID: the digest of the config ("sha256:<hex>"), the same
// whatever the layer compression. containers-storage and docker use it.
func (img *Image) ID() string { return "sha256:" + img.configHex }

// Config returns the image config JSON.
func (img *Image) Config() []byte { return append([]byte(nil), img.config...) }

// DiffIDs returns the layers' uncompressed digests, bottom first.
func (img *Image) DiffIDs() []string {
	out := make([]string, len(img.layers))
	for i, l := range img.layers {
		out[i] = "sha256:" + l.diffID
	}
	return out
}

// Manifest is a serialized image manifest.
type Manifest struct {
	Bytes     []byte
	Digest    string // "sha256:<hex>"
	MediaType string
	// ArtifactType is set for attachments (OCI 1.1 artifact manifests).
	ArtifactType string
	// Layers are the layer descriptors as written in the manifest.
	Layers []v1.Descriptor
}

// Descriptor returns the manifest's descriptor, with annotations.
func (m *Manifest) Descriptor(annotations map[string]string) v1.Descriptor {
	return v1.Descriptor{MediaType: m.MediaType, ArtifactType: m.ArtifactType, Digest: digest.Digest(m.Digest), Size: int64(len(m.Bytes)), Annotations: annotations}
}

// Manifest returns the image manifest for compression c, compressing the
// layers first when needed.
func (img *Image) Manifest(ctx context.Context, c Compression) (*Manifest, error) {
	img.mu.Lock()
	defer img.mu.Unlock()
	if img.closed {
		return nil, errClosed
	}
	if m := img.manifests[c]; m != nil {
		return m, nil
	}
	m := v1.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: v1.MediaTypeImageManifest,
		Config: v1.Descriptor{MediaType: v1.MediaTypeImageConfig, Digest: digest.NewDigestFromEncoded(digest.SHA256, img.configHex),
			Size: int64(len(img.config))},
		Annotations: img.annotations,
	}
	for i, l := range img.layers {
		d := v1.Descriptor{MediaType: v1.MediaTypeImageLayer, Digest: digest.NewDigestFromEncoded(digest.SHA256, l.diffID), Size: l.size}
		if c == Gzip {
			b, err := img.gzipped(ctx, i)
			if err != nil {
				return nil, err
			}
			d = v1.Descriptor{MediaType: v1.MediaTypeImageLayerGzip, Digest: digest.NewDigestFromEncoded(digest.SHA256, b.hex), Size: b.size}
		}
		m.Layers = append(m.Layers, d)
	}
	data, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("image: manifest: %w", err)
	}
	out := &Manifest{Bytes: data, Digest: "sha256:" + sha256Hex(data), MediaType: v1.MediaTypeImageManifest, Layers: m.Layers}
	img.manifests[c] = out
	return out, nil
}

// gzipped returns layer i's gzip blob. Called with img.mu held.
func (img *Image) gzipped(ctx context.Context, i int) (blobRef, error) {
	if img.gz == nil {
		img.gz = make([]blobRef, len(img.layers))
	}
	if img.gz[i].hex == "" {
		b, err := gzipLayer(ctx, img.blobs, img.layers[i], img.level)
		if err != nil {
			return blobRef{}, err
		}
		img.gz[i] = b
	}
	return img.gz[i], nil
}

// openLayer returns layer i's blob for compression c, verified as read.
func (img *Image) openLayer(ctx context.Context, i int, c Compression) (io.ReadCloser, error) {
	if c == Uncompressed {
		return img.layers[i].reader(ctx)
	}
	img.mu.Lock()
	b, err := img.gzipped(ctx, i)
	img.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return img.blobs.open(ctx, b)
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// memBlob is an in-memory blob as a ReadCloser.
func memBlob(b []byte) io.ReadCloser { return io.NopCloser(bytes.NewReader(b)) }
