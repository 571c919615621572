package image

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	digest "github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/rootfsd/rootfsd/repo/repotest"
)

func TestConfig(t *testing.T) {
	img, _, diffID := newTestImage(t, Options{})
	var got v1.Image
	if err := jsonUnmarshal(img.Config(), &got); err != nil {
		t.Fatal(err)
	}
	created := testEpoch
	want := v1.Image{
		Created:  &created,
		Platform: v1.Platform{Architecture: "amd64", OS: "linux"},
		Config: v1.ImageConfig{
			User: "0:0", Env: []string{"PATH=" + DefaultPath, "LANG=C.UTF-8"}, Cmd: []string{"/bin/sh"}, WorkingDir: "/",
			Labels: map[string]string{"org.opencontainers.image.title": "test", "io.rootfsd.lock": "abc"},
		},
		RootFS:  v1.RootFS{Type: "layers", DiffIDs: []digest.Digest{digest.Digest("sha256:" + diffID)}},
		History: []v1.History{{Created: &created, CreatedBy: "rootfsd build", Comment: "sample"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	if img.ID() != "sha256:"+sha256Hex(img.Config()) {
		t.Errorf("ID %s is not the config digest", img.ID())
	}
	if diff := cmp.Diff([]string{"sha256:" + diffID}, img.DiffIDs()); diff != "" {
		t.Error(diff)
	}
}

func TestConfigOptions(t *testing.T) {
	cfg := Config{Architecture: "arm", Variant: "v7", Env: []string{"PATH=/bin", "A=b=c"}, Entrypoint: []string{"/init"},
		ExposedPorts: []string{"80/tcp"}, Volumes: []string{"/data"}, StopSignal: "SIGTERM", Author: "me", CreatedBy: "test"}
	oc, err := cfg.ociConfig([]*layer{{diffID: strings.Repeat("a", 64)}})
	if err != nil {
		t.Fatal(err)
	}
	if oc.Created.Unix() != 0 || oc.Variant != "v7" || oc.Config.Env[0] != "PATH=/bin" || len(oc.Config.Env) != 2 ||
		oc.Config.ExposedPorts == nil || oc.Config.Volumes == nil || oc.History[0].CreatedBy != "test" || oc.Author != "me" {
		t.Errorf("config = %+v", oc)
	}
	for _, bad := range []Config{{Architecture: ""}, {Architecture: "amd64", Env: []string{"NOEQUALS"}}, {Architecture: "amd64", Env: []string{"=x"}}} {
		if _, err := bad.ociConfig(nil); err == nil {
			t.Errorf("config %+v accepted", bad)
		}
	}
	ann := Config{Created: testEpoch, Annotations: map[string]string{"a": "b"}}.annotations()
	if ann[v1.AnnotationCreated] != "2026-11-21T00:45:27Z" || ann["a"] != "b" {
		t.Errorf("annotations = %v", ann)
	}
}

func TestNormalizeArch(t *testing.T) {
	tests := map[string][2]string{
		"amd64": {"amd64", ""}, "x86_64": {"amd64", ""}, "aarch64": {"arm64", ""}, "arm64": {"arm64", ""},
		"armhf": {"arm", "v7"}, "armel": {"arm", "v5"}, "i386": {"386", ""}, "x86": {"386", ""},
		"ppc64el": {"ppc64le", ""}, "s390x": {"s390x", ""}, "riscv64": {"riscv64", ""},
	}
	for in, want := range tests {
		a, v := NormalizeArch(in)
		if a != want[0] || v != want[1] {
			t.Errorf("NormalizeArch(%q) = %q, %q; want %q", in, a, v, want)
		}
	}
}

// TestDeterministic builds the same image twice from scratch and checks
// that every export is byte for byte the same, and pins the digests that
// do not depend on the gzip encoder.
func TestDeterministic(t *testing.T) {
	ctx := context.Background()
	type result struct{ gz, raw, ociArchive, dockerArchive, id string }
	build := func() result {
		img, _, _ := newTestImage(t, Options{})
		gz, err := img.Manifest(ctx, Gzip)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := img.Manifest(ctx, Uncompressed)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		if _, err := img.WriteOCIArchive(ctx, filepath.Join(dir, "oci.tar"), LayoutOptions{Tag: "test"}); err != nil {
			t.Fatal(err)
		}
		if err := img.WriteDockerArchive(ctx, filepath.Join(dir, "docker.tar"), "localhost/test:1"); err != nil {
			t.Fatal(err)
		}
		return result{gz.Digest, raw.Digest, fileSHA256(t, filepath.Join(dir, "oci.tar")), fileSHA256(t, filepath.Join(dir, "docker.tar")), img.ID()}
	}
	a, b := build(), build()
	if a != b {
		t.Fatalf("two builds differ:\n%+v\n%+v", a, b)
	}
	// The image ID and the uncompressed manifest depend only on the layer,
	// the config and this package's encoding: a change here changes the
	// digest of every image rootfsd builds, so it must be deliberate.
	t.Logf("image ID %s, uncompressed manifest %s, gzip manifest %s", a.id, a.raw, a.gz)
	golden(t, "digests.json", map[string]string{"id": a.id, "uncompressed-manifest": a.raw})
}

// TestGzipBlob checks the compressed layer: gzip header without name or
// mtime, content identical to the layer.
func TestGzipBlob(t *testing.T) {
	ctx := context.Background()
	img, path, _ := newTestImage(t, Options{})
	m, err := img.Manifest(ctx, Gzip)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := img.openLayer(ctx, 0, Gzip)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	blob, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(blob)) != m.Layers[0].Size || m.Layers[0].MediaType != v1.MediaTypeImageLayerGzip {
		t.Fatalf("descriptor %+v for a %d-byte blob", m.Layers[0], len(blob))
	}
	// RFC 1952: ID1 ID2 CM FLG MTIME(4) XFL OS.
	if blob[0] != 0x1f || blob[1] != 0x8b || blob[3] != 0 || !bytes.Equal(blob[4:8], []byte{0, 0, 0, 0}) {
		t.Errorf("gzip header % x: want no flags (no name) and mtime 0", blob[:10])
	}
	got := gunzip(t, blob)
	want, _ := os.ReadFile(path)
	if !bytes.Equal(got, want) {
		t.Error("gzip blob does not decompress to the layer")
	}
}

// TestCache checks that a second image of the same layer reuses the
// compressed blob from the cache instead of compressing again.
func TestCache(t *testing.T) {
	ctx := context.Background()
	cache := repotest.NewMemCache()
	img1, _, _ := newTestImage(t, Options{Cache: cache})
	m1, err := img1.Manifest(ctx, Gzip)
	if err != nil {
		t.Fatal(err)
	}
	if cache.Puts() != 1 {
		t.Fatalf("%d puts after the first build, want 1", cache.Puts())
	}
	img2, _, _ := newTestImage(t, Options{Cache: cache})
	m2, err := img2.Manifest(ctx, Gzip)
	if err != nil {
		t.Fatal(err)
	}
	if cache.Puts() != 1 || m1.Digest != m2.Digest {
		t.Errorf("second build: %d puts (want 1), digests %s vs %s", cache.Puts(), m1.Digest, m2.Digest)
	}
	// A damaged cache blob fails the export instead of producing an image.
	cache.Damage()
	_, err = img2.WriteOCI(ctx, t.TempDir(), LayoutOptions{})
	if !errors.Is(err, ErrDigestMismatch) {
		t.Errorf("export from a damaged cache: %v, want ErrDigestMismatch", err)
	}
}

// TestLayerChecks covers layers that are not what they claim to be.
func TestLayerChecks(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path, diffID := makeLayer(t, dir, sampleEntries, nil)
	wrong := strings.Repeat("0", 64)
	if _, err := New(ctx, []Layer{{Path: path, DiffID: wrong, Size: 1}}, testConfig(), Options{WorkDir: dir}); !errors.Is(err, ErrDigestMismatch) {
		t.Errorf("wrong size: %v", err)
	}
	// Open-only layer with a wrong diffID: caught while hashing.
	open := func(context.Context) (io.ReadCloser, error) { return os.Open(path) }
	if _, err := New(ctx, []Layer{{Open: open, DiffID: wrong}}, testConfig(), Options{WorkDir: dir}); !errors.Is(err, ErrDigestMismatch) {
		t.Errorf("open layer with wrong diffID: %v", err)
	}
	// Path layer with a wrong diffID: New trusts it (no read), every export fails.
	img, err := New(ctx, []Layer{{Path: path, DiffID: wrong}}, testConfig(), Options{WorkDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	out := filepath.Join(dir, "out")
	if _, err := img.WriteOCI(ctx, out, LayoutOptions{}); !errors.Is(err, ErrDigestMismatch) {
		t.Errorf("oci export of a lying layer: %v", err)
	}
	if _, err := os.Stat(filepath.Join(out, "index.json")); err == nil {
		t.Error("failed export left an index.json")
	}
	if err := img.WriteDockerArchive(ctx, filepath.Join(dir, "d.tar")); !errors.Is(err, ErrDigestMismatch) {
		t.Errorf("docker export of a lying layer: %v", err)
	}
	if _, err := img.WriteOCIArchive(ctx, filepath.Join(dir, "o.tar"), LayoutOptions{Compression: Uncompressed}); !errors.Is(err, ErrDigestMismatch) {
		t.Errorf("oci-archive export of a lying layer: %v", err)
	}
	for _, name := range []string{"d.tar", "o.tar"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			t.Errorf("failed export left %s", name)
		}
	}
	// Missing DiffID: computed.
	img2, err := New(ctx, []Layer{{Open: open}}, testConfig(), Options{WorkDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer img2.Close()
	if img2.DiffIDs()[0] != "sha256:"+diffID {
		t.Errorf("computed diffID %s, want %s", img2.DiffIDs()[0], diffID)
	}
	for _, bad := range [][]Layer{nil, {{}}, {{Path: dir}}, {{Path: filepath.Join(dir, "missing")}}, {{Path: path, DiffID: "sha256:xyz"}}} {
		if _, err := New(ctx, bad, testConfig(), Options{WorkDir: dir}); err == nil {
			t.Errorf("layers %+v accepted", bad)
		}
	}
	if _, err := New(ctx, []Layer{{Path: path}}, testConfig(), Options{WorkDir: dir, GzipLevel: 42}); err == nil {
		t.Error("gzip level 42 accepted")
	}
	img.Close()
	if _, err := img.Manifest(ctx, Gzip); err == nil {
		t.Error("Manifest after Close succeeded")
	}
}

// TestMultipleLayers checks order and a repeated layer.
func TestMultipleLayers(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	p1, d1 := makeLayer(t, dir, sampleEntries[:3], nil)
	d2dir := filepath.Join(dir, "2")
	os.Mkdir(d2dir, 0o755)
	p2, d2 := makeLayer(t, d2dir, sampleEntries[3:6], nil)
	img, err := New(ctx, []Layer{{Path: p1, DiffID: d1}, {Path: p2, DiffID: d2}, {Path: p1, DiffID: d1}}, testConfig(), Options{WorkDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	if diff := cmp.Diff([]string{"sha256:" + d1, "sha256:" + d2, "sha256:" + d1}, img.DiffIDs()); diff != "" {
		t.Error(diff)
	}
	m, err := img.WriteOCI(ctx, filepath.Join(dir, "oci"), LayoutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Layers) != 3 || m.Layers[0].Digest != m.Layers[2].Digest {
		t.Errorf("layers %+v", m.Layers)
	}
	checkLayout(t, filepath.Join(dir, "oci"))
	if err := img.WriteDockerArchive(ctx, filepath.Join(dir, "d.tar"), "x:y"); err != nil {
		t.Fatal(err)
	}
	members := readTar(t, filepath.Join(dir, "d.tar"))
	var mf []dockerManifestItem
	if err := jsonUnmarshal(members["manifest.json"].data, &mf); err != nil {
		t.Fatal(err)
	}
	if len(mf[0].Layers) != 3 || members[d1+".tar"].data == nil || members[d2+".tar"].data == nil {
		t.Errorf("docker manifest %+v", mf)
	}
}

func TestContextCancel(t *testing.T) {
	img, _, _ := newTestImage(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dir := t.TempDir()
	if _, err := img.WriteOCIArchive(ctx, filepath.Join(dir, "x.tar"), LayoutOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled export: %v", err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 0 {
		t.Errorf("cancelled export left %v", ents)
	}
}
