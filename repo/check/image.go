package check

import (
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"os"
	"regexp"
	"strings"

	"github.com/rootfsd/rootfsd/repo/fstree"
)

// maxJSON bounds index, manifest and config documents.
const maxJSON = 4 << 20

var digestRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

type descriptor struct {
	MediaType string `json:"mediaType"`
	Digest    string `json:"digest"`
	Platform  *struct {
		OS           string `json:"os"`
		Architecture string `json:"architecture"`
	} `json:"platform,omitempty"`
}

type ociIndex struct {
	Manifests []descriptor `json:"manifests"`
}

type ociManifest struct {
	MediaType string       `json:"mediaType"`
	Config    descriptor   `json:"config"`
	Layers    []descriptor `json:"layers"`
	Manifests []descriptor `json:"manifests"` // when it is an index
}

type imageConfig struct {
	Config ImageConfig `json:"config"`
	RootFS struct {
		DiffIDs []string `json:"diff_ids"`
	} `json:"rootfs"`
}

type dockerManifest struct {
	Config string   `json:"Config"`
	Layers []string `json:"Layers"`
}

func readJSON(root *os.Root, name string, v any) error {
	f, err := root.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxJSON+1))
	if err != nil {
		return err
	}
	if len(data) > maxJSON {
		return fmt.Errorf("%s is larger than %d bytes", name, maxJSON)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

func blobPath(d descriptor) (string, error) {
	if !digestRE.MatchString(d.Digest) {
		return "", fmt.Errorf("digest %q: only sha256 digests are read", d.Digest)
	}
	return "blobs/sha256/" + strings.TrimPrefix(d.Digest, "sha256:"), nil
}

// loadOCI reads an OCI image layout: index -> manifest -> config and
// layers, every blob verified against its digest.
func loadOCI(ctx context.Context, dir, kind string, opts LoadOptions) (*Target, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("check: %w", err)
	}
	defer root.Close()
	var idx ociIndex
	if err := readJSON(root, "index.json", &idx); err != nil {
		return nil, fmt.Errorf("check: %s: %w", dir, err)
	}
	var m ociManifest
	for depth := 0; ; depth++ {
		d, err := pickManifest(idx.Manifests, opts.Arch)
		if err != nil || depth > 4 {
			return nil, fmt.Errorf("check: %s: %w", dir, err)
		}
		bp, err := blobPath(d)
		if err != nil {
			return nil, fmt.Errorf("check: %s: %w", dir, err)
		}
		m = ociManifest{}
		if err := readVerifiedJSON(root, bp, d.Digest, &m); err != nil {
			return nil, fmt.Errorf("check: %s: manifest: %w", dir, err)
		}
		if len(m.Manifests) == 0 {
			break
		}
		idx = ociIndex{Manifests: m.Manifests}
	}
	cp, err := blobPath(m.Config)
	if err != nil {
		return nil, fmt.Errorf("check: %s: config: %w", dir, err)
	}
	var cfg imageConfig
	if err := readVerifiedJSON(root, cp, m.Config.Digest, &cfg); err != nil {
		return nil, fmt.Errorf("check: %s: config: %w", dir, err)
	}
	var layers []layerRef
	for _, l := range m.Layers {
		lp, err := blobPath(l)
		if err != nil {
			return nil, fmt.Errorf("check: %s: layer: %w", dir, err)
		}
		layers = append(layers, layerRef{path: lp, digest: l.Digest, mediaType: l.MediaType})
	}
	return buildTarget(ctx, root, kind, cfg, layers, opts)
}

// loadDocker reads `docker save` output: manifest.json names the config
// and the layer tars.
func loadDocker(ctx context.Context, dir string, opts LoadOptions) (*Target, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("check: %w", err)
	}
	defer root.Close()
	var ms []dockerManifest
	if err := readJSON(root, "manifest.json", &ms); err != nil {
		return nil, fmt.Errorf("check: %s: %w", dir, err)
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("check: %s: manifest.json lists no image", dir)
	}
	var cfg imageConfig
	if err := readJSON(root, cleanName(ms[0].Config), &cfg); err != nil {
		return nil, fmt.Errorf("check: %s: config: %w", dir, err)
	}
	var layers []layerRef
	for _, l := range ms[0].Layers {
		layers = append(layers, layerRef{path: cleanName(l)})
	}
	return buildTarget(ctx, root, KindDockerArchive, cfg, layers, opts)
}

func pickManifest(ms []descriptor, arch string) (descriptor, error) {
	for _, d := range ms {
		if arch == "" || d.Platform == nil || d.Platform.Architecture == arch {
			return d, nil
		}
	}
	if len(ms) == 0 {
		return descriptor{}, fmt.Errorf("index.json lists no manifest")
	}
	return descriptor{}, fmt.Errorf("no manifest for architecture %s", arch)
}

func readVerifiedJSON(root *os.Root, name, digest string, v any) error {
	f, err := root.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	data, err := io.ReadAll(io.TeeReader(io.LimitReader(f, maxJSON+1), h))
	if err != nil {
		return err
	}
	if len(data) > maxJSON {
		return fmt.Errorf("%s is larger than %d bytes", name, maxJSON)
	}
	if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != digest {
		return fmt.Errorf("%s: digest %s, expected %s", name, got, digest)
	}
	return json.Unmarshal(data, v)
}

type layerRef struct {
	path, digest, mediaType string
}

// buildTarget applies the layers in order into a tree, verifying each
// blob digest and each uncompressed diff ID the config lists.
func buildTarget(ctx context.Context, root *os.Root, kind string, cfg imageConfig, layers []layerRef, opts LoadOptions) (*Target, error) {
	if len(cfg.RootFS.DiffIDs) > 0 && len(cfg.RootFS.DiffIDs) != len(layers) {
		return nil, fmt.Errorf("check: image has %d layers but its config lists %d diff IDs", len(layers), len(cfg.RootFS.DiffIDs))
	}
	t := fstree.New(fstree.Options{TempDir: opts.TempDir})
	target := &Target{FS: TreeFS(t), Config: &cfg.Config, Kind: kind, cleanup: []func() error{t.Close}}
	var total int64
	for i, l := range layers {
		diffID := ""
		if len(cfg.RootFS.DiffIDs) > 0 {
			diffID = cfg.RootFS.DiffIDs[i]
		}
		if err := applyBlob(ctx, root, t, l, diffID, i+1, &total, opts); err != nil {
			target.Close()
			return nil, fmt.Errorf("check: layer %d (%s): %w", i+1, l.path, err)
		}
	}
	return target, nil
}

func applyBlob(ctx context.Context, root *os.Root, t *fstree.Tree, l layerRef, diffID string, n int, total *int64, opts LoadOptions) error {
	f, err := root.Open(l.path)
	if err != nil {
		return err
	}
	defer f.Close()
	var blobHash hash.Hash
	var r io.Reader = f
	if l.digest != "" {
		blobHash = sha256.New()
		r = io.TeeReader(f, blobHash)
	}
	var layer io.Reader
	switch {
	case strings.HasSuffix(l.mediaType, "+zstd") || strings.HasSuffix(l.mediaType, ".zstd"):
		if opts.Decompress == nil {
			return fmt.Errorf("zstd layers cannot be read here")
		}
		rc, err := opts.Decompress(r)
		if err != nil {
			return err
		}
		defer rc.Close()
		layer = rc
	case strings.HasSuffix(l.mediaType, "gzip"):
		zr, err := gzip.NewReader(r)
		if err != nil {
			return err
		}
		layer = zr
	default:
		if layer, err = maybeGzip(r); err != nil {
			return err
		}
	}
	diffHash := sha256.New()
	if err := applyLayer(ctx, t, io.TeeReader(layer, diffHash), fmt.Sprintf("layer %d", n), total, opts.MaxTree); err != nil {
		return err
	}
	// The tar's end-of-archive blocks and any padding count in both hashes.
	if _, err := io.Copy(diffHash, layer); err != nil {
		return err
	}
	if _, err := io.Copy(io.Discard, r); err != nil {
		return err
	}
	if got := "sha256:" + hex.EncodeToString(diffHash.Sum(nil)); diffID != "" && got != diffID {
		return fmt.Errorf("uncompressed digest %s, the config says %s", got, diffID)
	}
	if blobHash != nil {
		if got := "sha256:" + hex.EncodeToString(blobHash.Sum(nil)); got != l.digest {
			return fmt.Errorf("digest %s, the manifest says %s", got, l.digest)
		}
	}
	return nil
}
