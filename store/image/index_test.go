package image

import (
	"archive/tar"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// newArchImage builds an image for arch (Debian spelling) whose layer
// holds one file naming it.
func newArchImage(t *testing.T, arch string) *Image {
	t.Helper()
	dir := t.TempDir()
	path, diffID := makeLayer(t, dir, sampleEntries, map[string][]byte{"etc/arch": []byte(arch + "\n")})
	cfg := testConfig()
	cfg.Architecture, cfg.Variant = NormalizeArch(arch)
	img, err := New(context.Background(), []Layer{{Path: path, DiffID: diffID}}, cfg, Options{WorkDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { img.Close() })
	return img
}

// TestIndex writes an index of three platforms as a layout and as an
// archive, and checks what a client reads: index.json names the index,
// the index names each manifest with its platform, each manifest's
// config has that architecture and its layer that architecture's file.
func TestIndex(t *testing.T) {
	ctx := context.Background()
	arches := []string{"amd64", "arm64", "armhf"}
	var imgs []*Image
	for _, a := range arches {
		imgs = append(imgs, newArchImage(t, a))
	}
	ix, err := NewIndex(imgs)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"linux/amd64", "linux/arm64", "linux/arm/v7"}, ix.Platforms()); diff != "" {
		t.Errorf("platforms (-want +got):\n%s", diff)
	}
	dir := filepath.Join(t.TempDir(), "layout")
	m, err := ix.WriteOCI(ctx, dir, LayoutOptions{Tag: "multi"})
	if err != nil {
		t.Fatal(err)
	}
	top := checkLayout(t, dir)
	if len(top.Manifests) != 1 || top.Manifests[0].Digest.String() != m.Digest || top.Manifests[0].MediaType != v1.MediaTypeImageIndex ||
		top.Manifests[0].Annotations[v1.AnnotationRefName] != "multi" {
		t.Fatalf("index.json %+v, index %s", top.Manifests, m.Digest)
	}
	blob := func(d v1.Descriptor) []byte {
		data, err := os.ReadFile(filepath.Join(dir, "blobs", "sha256", d.Digest.Encoded()))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	var idx v1.Index
	if err := json.Unmarshal(blob(top.Manifests[0]), &idx); err != nil {
		t.Fatal(err)
	}
	type got struct{ Platform, ConfigArch, Variant, File string }
	var gots []got
	for i, d := range idx.Manifests {
		mb, err := imgs[i].Manifest(ctx, Gzip)
		if err != nil {
			t.Fatal(err)
		}
		if d.Digest.String() != mb.Digest || d.MediaType != v1.MediaTypeImageManifest {
			t.Errorf("entry %d: %+v, want manifest %s", i, d, mb.Digest)
		}
		var man v1.Manifest
		var cfg v1.Image
		json.Unmarshal(blob(d), &man)
		json.Unmarshal(blob(man.Config), &cfg)
		gots = append(gots, got{platformString(*d.Platform), cfg.Architecture, cfg.Variant, strings.TrimSpace(layerFile(t, gunzip(t, blob(man.Layers[0])), "etc/arch"))})
	}
	want := []got{{"linux/amd64", "amd64", "", "amd64"}, {"linux/arm64", "arm64", "", "arm64"}, {"linux/arm/v7", "arm", "v7", "armhf"}}
	if diff := cmp.Diff(want, gots); diff != "" {
		t.Errorf("index entries (-want +got):\n%s", diff)
	}

	// The archive holds the same index and is the same bytes twice.
	arch1, arch2 := filepath.Join(t.TempDir(), "a.tar"), filepath.Join(t.TempDir(), "b.tar")
	for _, p := range []string{arch1, arch2} {
		am, err := ix.WriteOCIArchive(ctx, p, LayoutOptions{Tag: "multi"})
		if err != nil {
			t.Fatal(err)
		}
		if am.Digest != m.Digest {
			t.Errorf("archive index %s, layout %s", am.Digest, m.Digest)
		}
	}
	if fileSHA256(t, arch1) != fileSHA256(t, arch2) {
		t.Error("two archives of one index differ")
	}

	if _, err := NewIndex([]*Image{imgs[0], newArchImage(t, "x86_64")}); err == nil || !strings.Contains(err.Error(), "two images for linux/amd64") {
		t.Errorf("duplicate platform: %v", err)
	}
}

// layerFile returns the body of name in a layer tar.
func layerFile(t *testing.T, layer []byte, name string) string {
	t.Helper()
	tr := tar.NewReader(strings.NewReader(string(layer)))
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("%s not in layer: %v", name, err)
		}
		if h.Name == name {
			data, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			return string(data)
		}
	}
}

// TestIndexSkopeo: skopeo reads the layout as a multi-platform image.
func TestIndexSkopeo(t *testing.T) {
	skopeo := lookTool(t, "skopeo")
	ctx := context.Background()
	ix, err := NewIndex([]*Image{newArchImage(t, "amd64"), newArchImage(t, "arm64")})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "oci")
	m, err := ix.WriteOCI(ctx, dir, LayoutOptions{Tag: "multi"})
	if err != nil {
		t.Fatal(err)
	}
	raw := run(t, skopeo, "inspect", "--raw", "oci:"+dir+":multi")
	if sha256Hex(raw) != strings.TrimPrefix(m.Digest, "sha256:") {
		t.Errorf("skopeo inspect --raw gives another index:\n%s", raw)
	}
	var got struct{ Architecture string }
	if err := json.Unmarshal(run(t, skopeo, "--override-arch", "arm64", "inspect", "oci:"+dir+":multi"), &got); err != nil {
		t.Fatal(err)
	}
	if got.Architecture != "arm64" {
		t.Errorf("skopeo --override-arch arm64 inspect: %+v", got)
	}
}
