package image

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestWriteOCI(t *testing.T) {
	ctx := context.Background()
	for _, c := range []Compression{Gzip, Uncompressed} {
		t.Run(c.String(), func(t *testing.T) {
			img, path, _ := newTestImage(t, Options{})
			dir := filepath.Join(t.TempDir(), "layout")
			m, err := img.WriteOCI(ctx, dir, LayoutOptions{Tag: "localhost/test:1", Compression: c})
			if err != nil {
				t.Fatal(err)
			}
			idx := checkLayout(t, dir)
			if len(idx.Manifests) != 1 {
				t.Fatalf("index has %d manifests", len(idx.Manifests))
			}
			d := idx.Manifests[0]
			if d.Digest.String() != m.Digest || d.Annotations[v1.AnnotationRefName] != "localhost/test:1" {
				t.Errorf("index entry %+v, manifest %s", d, m.Digest)
			}
			var man v1.Manifest
			readJSON(t, filepath.Join(dir, "blobs", "sha256", d.Digest.Encoded()), &man)
			if man.Config.Digest.String() != img.ID() || man.Annotations["org.opencontainers.image.version"] != "1.0" ||
				man.Annotations[v1.AnnotationCreated] != "2026-11-21T00:45:27Z" {
				t.Errorf("manifest %+v", man)
			}
			layer, err := os.ReadFile(filepath.Join(dir, "blobs", "sha256", man.Layers[0].Digest.Encoded()))
			if err != nil {
				t.Fatal(err)
			}
			if c == Gzip {
				layer = gunzip(t, layer)
			}
			want, _ := os.ReadFile(path)
			if !bytes.Equal(layer, want) {
				t.Error("layer blob differs from the layer tar: ownership, modes or content changed")
			}
		})
	}
}

// TestWriteOCIMerge adds a second tag to a layout, replaces a tag, and
// repairs a damaged blob.
func TestWriteOCIMerge(t *testing.T) {
	ctx := context.Background()
	img, _, _ := newTestImage(t, Options{})
	dir := t.TempDir()
	if _, err := img.WriteOCI(ctx, dir, LayoutOptions{Tag: "a"}); err != nil {
		t.Fatal(err)
	}
	raw, err := img.WriteOCI(ctx, dir, LayoutOptions{Tag: "b", Compression: Uncompressed})
	if err != nil {
		t.Fatal(err)
	}
	idx := checkLayout(t, dir)
	if tags := refNames(idx); !cmp.Equal(tags, []string{"a", "b"}) {
		t.Errorf("tags %v, want [a b]", tags)
	}
	// Tag "a" now moves to the uncompressed manifest.
	if _, err := img.WriteOCI(ctx, dir, LayoutOptions{Tag: "a", Compression: Uncompressed}); err != nil {
		t.Fatal(err)
	}
	idx = checkLayout(t, dir)
	if tags := refNames(idx); !cmp.Equal(tags, []string{"b", "a"}) || idx.Manifests[1].Digest.String() != raw.Digest {
		t.Errorf("after retag: %+v", idx.Manifests)
	}
	// A damaged blob is rewritten.
	cfg := filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(img.ID(), "sha256:"))
	os.Chmod(cfg, 0o644)
	if err := os.WriteFile(cfg, bytes.Repeat([]byte("x"), len(img.Config())), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := img.WriteOCI(ctx, dir, LayoutOptions{Tag: "a"}); err != nil {
		t.Fatal(err)
	}
	checkLayout(t, dir)

	// A directory that is not a layout is refused.
	other := t.TempDir()
	os.WriteFile(filepath.Join(other, "notes.txt"), []byte("mine"), 0o644)
	if _, err := img.WriteOCI(ctx, other, LayoutOptions{}); err == nil || !strings.Contains(err.Error(), "not an OCI layout") {
		t.Errorf("non-layout directory: %v", err)
	}
	if _, err := img.WriteOCI(ctx, t.TempDir(), LayoutOptions{Tag: "bad tag"}); err == nil {
		t.Error("bad tag accepted")
	}
}

func refNames(idx v1.Index) []string {
	var out []string
	for _, d := range idx.Manifests {
		if n := d.Annotations[v1.AnnotationRefName]; n != "" {
			out = append(out, n)
		}
	}
	return out
}

// TestReferrers attaches an SBOM and checks the artifact manifest.
func TestReferrers(t *testing.T) {
	ctx := context.Background()
	sbom := []byte(`{"spdxVersion":"SPDX-2.3"}`)
	img, _, _ := newTestImage(t, Options{Attachments: []Attachment{{ArtifactType: "application/spdx+json", Data: sbom, Title: "sbom.spdx.json"}}})
	dir := t.TempDir()
	m, err := img.WriteOCI(ctx, dir, LayoutOptions{Tag: "x", Referrers: true})
	if err != nil {
		t.Fatal(err)
	}
	idx := checkLayout(t, dir)
	if len(idx.Manifests) != 2 || idx.Manifests[1].ArtifactType != "application/spdx+json" {
		t.Fatalf("index %+v", idx.Manifests)
	}
	var art v1.Manifest
	readJSON(t, filepath.Join(dir, "blobs", "sha256", idx.Manifests[1].Digest.Encoded()), &art)
	if art.Subject == nil || art.Subject.Digest.String() != m.Digest || art.ArtifactType != "application/spdx+json" ||
		art.Config.MediaType != v1.MediaTypeEmptyJSON || len(art.Layers) != 1 || art.Layers[0].Annotations[v1.AnnotationTitle] != "sbom.spdx.json" {
		t.Errorf("artifact manifest %+v", art)
	}
	got, _ := os.ReadFile(filepath.Join(dir, "blobs", "sha256", art.Layers[0].Digest.Encoded()))
	if !bytes.Equal(got, sbom) {
		t.Error("SBOM blob differs")
	}
	// Without Referrers the layout holds the image only.
	plain := t.TempDir()
	if _, err := img.WriteOCI(ctx, plain, LayoutOptions{Tag: "x"}); err != nil {
		t.Fatal(err)
	}
	if idx := checkLayout(t, plain); len(idx.Manifests) != 1 {
		t.Errorf("referrers written without LayoutOptions.Referrers")
	}
	if _, err := New(ctx, []Layer{{Path: "x"}}, testConfig(), Options{Attachments: []Attachment{{ArtifactType: "a"}}}); err == nil {
		t.Error("empty attachment accepted")
	}
}

func TestWriteOCIArchive(t *testing.T) {
	ctx := context.Background()
	img, _, _ := newTestImage(t, Options{Attachments: []Attachment{{ArtifactType: "application/spdx+json", Data: []byte("{}")}}})
	dir := t.TempDir()
	path := filepath.Join(dir, "image.tar")
	m, err := img.WriteOCIArchive(ctx, path, LayoutOptions{Tag: "test", Referrers: true})
	if err != nil {
		t.Fatal(err)
	}
	members := readTar(t, path)
	// Unpack and check it as a layout.
	out := filepath.Join(dir, "unpacked")
	names := make([]string, 0, len(members))
	for name, mem := range members {
		names = append(names, name)
		p := filepath.Join(out, filepath.FromSlash(name))
		if mem.hdr.Typeflag == '5' {
			os.MkdirAll(p, 0o755)
			continue
		}
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, mem.data, 0o644); err != nil {
			t.Fatal(err)
		}
		if !mem.hdr.ModTime.Equal(testEpoch) || mem.hdr.Mode != 0o644 {
			t.Errorf("%s: mtime %v mode %o", name, mem.hdr.ModTime, mem.hdr.Mode)
		}
	}
	idx := checkLayout(t, out)
	if idx.Manifests[0].Digest.String() != m.Digest || len(idx.Manifests) != 2 {
		t.Errorf("index %+v", idx)
	}
	if _, ok := members["blobs/sha256/"]; !ok {
		t.Errorf("no directory entries: %v", names)
	}
}

func TestSplitLayoutDest(t *testing.T) {
	for in, want := range map[string][2]string{
		"out":                         {"out", ""},
		"out/img:24.04":               {"out/img", "24.04"},
		"/abs/dir:localhost/ca:24.04": {"/abs/dir", "localhost/ca:24.04"},
		"image.tar:":                  {"image.tar", ""},
	} {
		if p, tag := SplitLayoutDest(in); p != want[0] || tag != want[1] {
			t.Errorf("SplitLayoutDest(%q) = %q, %q; want %q", in, p, tag, want)
		}
	}
}
