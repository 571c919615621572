//go:build mirror

package main

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestMirrorMultiArchDebian builds debian:12 ca-certificates for amd64 and
// arm64 from the real archive (Debian's archive carries both) into an
// OCI layout, checks with skopeo that each platform's config names its
// architecture, and with the layers that each holds its architecture's
// libc; the locks then build the same index again.
func TestMirrorMultiArchDebian(t *testing.T) {
	skipWithoutMirror(t, "debian:12")
	needTool(t, "skopeo")
	dir := t.TempDir()
	g := []string{"--cache-dir", filepath.Join(dir, "cache"), "--daemon", "never"}
	layout := filepath.Join(dir, "oci")
	out, stderr, code := runCLI(t, append(g, "build", "--distro", "debian:12", "--pkgs", "ca-certificates", "--arch", "amd64,arm64",
		"--output", "oci:"+layout, "--write-lock", filepath.Join(dir, "rootfs.lock"))...)
	if code != 0 {
		t.Fatalf("build: exit %d: %s", code, stderr)
	}
	digest, got := readIndexLayout(t, layout, "latest")
	var platforms []string
	for _, p := range got {
		platforms = append(platforms, p.Platform+" "+p.ConfigArch)
	}
	if diff := cmp.Diff([]string{"linux/amd64 linux/amd64", "linux/arm64 linux/arm64"}, platforms); diff != "" {
		t.Errorf("platforms (-want +got):\n%s", diff)
	}
	for _, arch := range []string{"amd64", "arm64"} {
		cfg, err := exec.Command("skopeo", "--override-arch", arch, "inspect", "--config", "oci:"+layout+":latest").Output()
		if err != nil {
			t.Fatalf("skopeo: %v", err)
		}
		var c struct{ Architecture string }
		if json.Unmarshal(cfg, &c); c.Architecture != arch {
			t.Errorf("skopeo --override-arch %s picks %s", arch, c.Architecture)
		}
	}
	layers := indexLayerNames(t, layout)
	for arch, lib := range map[string]string{"amd64": "lib/x86_64-linux-gnu/libc.so.6", "arm64": "lib/aarch64-linux-gnu/libc.so.6"} {
		if !layers[arch][lib] {
			t.Errorf("the %s layer has no %s", arch, lib)
		}
	}
	out, stderr, code = runCLI(t, append(g, "build", "--lock", filepath.Join(dir, "rootfs.amd64.lock"), "--lock", filepath.Join(dir, "rootfs.arm64.lock"),
		"--output", "oci-archive:"+filepath.Join(dir, "image.tar"))...)
	if code != 0 || !strings.Contains(out, "image index "+digest) {
		t.Errorf("build from the locks: exit %d, want index %s:\n%s%s", code, digest, out, stderr)
	}
}

// indexLayerNames lists the files of each platform's layer in an index layout.
func indexLayerNames(t *testing.T, dir string) map[string]map[string]bool {
	t.Helper()
	out := map[string]map[string]bool{}
	var top struct{ Manifests []struct{ Digest string } }
	readJSONFile(t, filepath.Join(dir, "index.json"), &top)
	var ix struct {
		Manifests []struct {
			Digest   string
			Platform struct{ Architecture string }
		}
	}
	readJSONFile(t, filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(top.Manifests[0].Digest, "sha256:")), &ix)
	for _, m := range ix.Manifests {
		var man struct{ Layers []struct{ Digest string } }
		readJSONFile(t, filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(m.Digest, "sha256:")), &man)
		list, err := exec.Command("tar", "tzf", filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(man.Layers[0].Digest, "sha256:"))).Output()
		if err != nil {
			t.Fatal(err)
		}
		names := map[string]bool{}
		for _, n := range strings.Split(string(list), "\n") {
			names[n] = true
		}
		out[m.Platform.Architecture] = names
	}
	return out
}
