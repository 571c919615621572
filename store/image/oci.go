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
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// maxIndexSize bounds an existing index.json read when adding to a layout.
const maxIndexSize = 16 << 20

// WriteOCI writes the image into the OCI image layout at dir (oci:DIR).
// dir may be missing, empty, or an existing layout: then the image is added
// and any entry with the same tag is replaced, as skopeo does; blobs that
// are present are checked by hashing and rewritten when damaged. Blobs are
// written before index.json, each through a temporary file and a rename, so
// an interrupted export never leaves index.json naming a missing or partial
// blob. It returns the image manifest written.
func (img *Image) WriteOCI(ctx context.Context, dir string, opts LayoutOptions) (*Manifest, error) {
	lc, err := img.layout(ctx, opts)
	if err != nil {
		return nil, err
	}
	return writeLayoutDir(ctx, dir, lc)
}

// writeLayoutDir writes lc into the OCI layout at dir, merging index.json.
func writeLayoutDir(ctx context.Context, dir string, lc *layoutContent) (*Manifest, error) {
	entries, err := mergeIndex(dir, lc.entries)
	if err != nil {
		return nil, err
	}
	blobDir := filepath.Join(dir, "blobs", "sha256")
	if err := os.MkdirAll(blobDir, 0o755); err != nil {
		return nil, fmt.Errorf("image: oci:%s: %w", dir, err)
	}
	for _, b := range lc.blobs {
		if err := writeLayoutBlob(ctx, blobDir, b); err != nil {
			return nil, fmt.Errorf("image: oci:%s: %w", dir, err)
		}
	}
	idx, err := indexJSON(entries)
	if err != nil {
		return nil, err
	}
	if err := writeFileAtomic(filepath.Join(dir, "oci-layout"), ociLayoutFile); err != nil {
		return nil, fmt.Errorf("image: oci:%s: %w", dir, err)
	}
	if err := writeFileAtomic(filepath.Join(dir, "index.json"), idx); err != nil {
		return nil, fmt.Errorf("image: oci:%s: %w", dir, err)
	}
	return lc.manifest, nil
}

// mergeIndex returns the index entries of dir with ours replacing those of
// the same tag. A directory that is neither empty nor a layout is refused.
func mergeIndex(dir string, ours []v1.Descriptor) ([]v1.Descriptor, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) || err == nil && len(ents) == 0 {
		return ours, nil
	}
	if err != nil {
		return nil, fmt.Errorf("image: oci:%s: %w", dir, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "oci-layout")); err != nil {
		return nil, fmt.Errorf("image: oci:%s: directory is not empty and not an OCI layout (no oci-layout file); choose a new directory", dir)
	}
	f, err := os.Open(filepath.Join(dir, "index.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return ours, nil
	}
	if err != nil {
		return nil, fmt.Errorf("image: oci:%s: %w", dir, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxIndexSize+1))
	if err != nil {
		return nil, fmt.Errorf("image: oci:%s: index.json: %w", dir, err)
	}
	if len(data) > maxIndexSize {
		return nil, fmt.Errorf("image: oci:%s: index.json is larger than %d bytes", dir, maxIndexSize)
	}
	var idx v1.Index
	if err := json.Unmarshal(data, &idx); err != nil {
		return nil, fmt.Errorf("image: oci:%s: index.json: %w", dir, err)
	}
	tag := ours[0].Annotations[v1.AnnotationRefName]
	mine := map[string]bool{}
	for _, d := range ours {
		mine[d.Digest.String()] = true
	}
	var out []v1.Descriptor
	for _, d := range idx.Manifests {
		if d.Annotations[v1.AnnotationRefName] == tag || mine[d.Digest.String()] && d.Annotations[v1.AnnotationRefName] == "" {
			continue
		}
		out = append(out, d)
	}
	return append(out, ours...), nil
}

// writeLayoutBlob writes one blob unless an intact copy is there.
func writeLayoutBlob(ctx context.Context, dir string, b layoutBlob) error {
	path := filepath.Join(dir, b.hex)
	if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() && fi.Size() == b.size && fileHashes(path, b.hex) {
		return nil
	}
	if b.link != "" {
		// Only the very file: its size is checked here, its digest by
		// the reader of the layout.
		if fi, err := os.Stat(b.link); err == nil && fi.Size() == b.size && os.Link(b.link, path) == nil {
			return nil
		}
	}
	rc, err := b.verified(ctx)
	if err != nil {
		return err
	}
	defer rc.Close()
	return writeAtomic(path, func(w io.Writer) error {
		_, err := io.Copy(w, rc)
		return err
	})
}

// fileHashes reports whether the file at path hashes to want.
func fileHashes(path, want string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return false
	}
	return hex.EncodeToString(h.Sum(nil)) == want
}

func writeFileAtomic(path string, data []byte) error {
	return writeAtomic(path, func(w io.Writer) error {
		_, err := io.Copy(w, bytes.NewReader(data))
		return err
	})
}

// writeAtomic creates path through a temporary file in the same
// directory: fill, fsync, chmod 0644, rename. On error nothing is left.
func writeAtomic(path string, fill func(io.Writer) error) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+strings.TrimPrefix(base, ".")+".tmp-")
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := fill(f); err != nil {
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	ok = true
	return nil
}
