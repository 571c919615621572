package publish

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rootfsd/rootfsd/store/image"
)

// TestPushIndex pushes a two-platform image to a local registry and reads
// it back with skopeo: the registry holds the index rootfsd computed, byte
// for byte, and skopeo resolves each platform to its own image.
func TestPushIndex(t *testing.T) {
	skopeo := lookTool(t, "skopeo")
	reg := startRegistry(t, "", "")
	ctx := context.Background()
	var imgs []*image.Image
	for _, arch := range []string{"amd64", "arm64"} {
		files := append(sampleFiles(), file{name: "etc/arch", typ: tar.TypeReg, mode: 0o644, body: []byte(arch + "\n")})
		path, diffID := writeLayer(t, filepath.Join(t.TempDir(), "layer.tar"), files)
		goarch, variant := image.NormalizeArch(arch)
		img, err := image.New(ctx, []image.Layer{{Path: path, DiffID: diffID}},
			image.Config{Created: testEpoch, Architecture: goarch, Variant: variant}, image.Options{WorkDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { img.Close() })
		imgs = append(imgs, img)
	}
	ix, err := image.NewIndex(imgs)
	if err != nil {
		t.Fatal(err)
	}
	want, err := ix.Manifest(ctx, image.Gzip)
	if err != nil {
		t.Fatal(err)
	}
	ref := "docker://" + reg.addr + "/rootfsd/multi:1"
	got, err := PushIndex(ctx, ix, ref, PushOptions{Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	if got != want.Digest {
		t.Errorf("pushed index %s, want %s", got, want.Digest)
	}
	raw := runCmd(t, skopeo, "inspect", "--tls-verify=false", "--raw", ref)
	sum := sha256.Sum256([]byte(raw))
	if "sha256:"+hex.EncodeToString(sum[:]) != want.Digest {
		t.Errorf("registry index differs from ours:\n%s\nwant\n%s", raw, want.Bytes)
	}
	// skopeo picks each platform's image from the index: its config is ours.
	var gotArch []string
	for i, arch := range []string{"amd64", "arm64"} {
		cfg := runCmd(t, skopeo, "--override-arch", arch, "inspect", "--tls-verify=false", "--raw", "--config", ref)
		sum := sha256.Sum256([]byte(strings.TrimSpace(cfg)))
		if "sha256:"+hex.EncodeToString(sum[:]) != imgs[i].ID() {
			t.Errorf("%s: skopeo sees config %s, want image %s", arch, cfg, imgs[i].ID())
		}
		var c struct{ Architecture string }
		if err := json.Unmarshal([]byte(cfg), &c); err != nil {
			t.Fatal(err)
		}
		gotArch = append(gotArch, c.Architecture)
	}
	if diff := cmp.Diff([]string{"amd64", "arm64"}, gotArch); diff != "" {
		t.Errorf("architectures (-want +got):\n%s", diff)
	}
	if _, err := PushIndex(ctx, ix, "docker://"+strings.ToUpper(reg.addr)+"/X", PushOptions{Insecure: true}); err == nil {
		t.Error("invalid reference accepted")
	}
}
