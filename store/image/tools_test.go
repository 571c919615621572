package image

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// lookTool finds a system tool or skips loudly.
func lookTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("SKIP: %s is not installed: exports not checked with it (apt-get install %s)", name, name)
	}
	return p
}

func run(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

// TestSkopeo reads every export with skopeo (containers/image, as podman
// and buildah do) and checks that it sees our digests: the manifest of the
// OCI exports as written, and the config (image ID) and diffIDs of the
// docker archive.
func TestSkopeo(t *testing.T) {
	skopeo := lookTool(t, "skopeo")
	ctx := context.Background()
	img, _, diffID := newTestImage(t, Options{Attachments: []Attachment{{ArtifactType: "application/spdx+json", Data: []byte(`{"spdxVersion":"SPDX-2.3"}`)}}})
	dir := t.TempDir()
	ociDir := filepath.Join(dir, "oci")
	m, err := img.WriteOCI(ctx, ociDir, LayoutOptions{Tag: "test"})
	if err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(dir, "oci.tar")
	if _, err := img.WriteOCIArchive(ctx, archive, LayoutOptions{Tag: "test", Referrers: true}); err != nil {
		t.Fatal(err)
	}
	docker := filepath.Join(dir, "docker.tar")
	if err := img.WriteDockerArchive(ctx, docker, "localhost/test:1"); err != nil {
		t.Fatal(err)
	}
	type inspect struct {
		Digest       string
		Architecture string
		Os           string
		Layers       []string
		Labels       map[string]string
	}
	for _, ref := range []string{"oci:" + ociDir, "oci:" + ociDir + ":test", "oci-archive:" + archive + ":test"} {
		var got inspect
		if err := json.Unmarshal(run(t, skopeo, "inspect", ref), &got); err != nil {
			t.Fatalf("%s: %v", ref, err)
		}
		if got.Digest != m.Digest || got.Architecture != "amd64" || got.Os != "linux" || got.Labels["io.rootfsd.lock"] != "abc" {
			t.Errorf("skopeo inspect %s: %+v, want digest %s", ref, got, m.Digest)
		}
	}
	// The docker archive: skopeo converts the manifest, but the config
	// (hence the image ID) and the layers are ours.
	cfg := run(t, skopeo, "inspect", "--raw", "--config", "docker-archive:"+docker)
	if sha256Hex(cfg) != strings.TrimPrefix(img.ID(), "sha256:") {
		t.Errorf("docker-archive config differs:\n%s", cfg)
	}
	var got inspect
	if err := json.Unmarshal(run(t, skopeo, "inspect", "docker-archive:"+docker), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Layers) != 1 || got.Layers[0] != "sha256:"+diffID {
		t.Errorf("docker-archive layers %v, want [sha256:%s]", got.Layers, diffID)
	}
	// A copy with preserved digests from the archive to a fresh layout
	// keeps the manifest digest.
	copyDir := filepath.Join(dir, "copy")
	run(t, skopeo, "copy", "--preserve-digests", "oci-archive:"+archive+":test", "oci:"+copyDir+":copied")
	var idx struct{ Manifests []struct{ Digest string } }
	readJSON(t, filepath.Join(copyDir, "index.json"), &idx)
	if len(idx.Manifests) != 1 || idx.Manifests[0].Digest != m.Digest {
		t.Errorf("skopeo copy gave %+v, want %s", idx.Manifests, m.Digest)
	}
}

// TestPodmanLoad loads the docker and OCI archives into a private
// containers-storage with podman and checks the image ID. It needs root
// (rootless podman would need a user namespace of its own).
func TestPodmanLoad(t *testing.T) {
	podman := lookTool(t, "podman")
	if os.Geteuid() != 0 {
		t.Skip("SKIP: podman load into a private store needs root; run the tests as root to check it")
	}
	ctx := context.Background()
	img, _, _ := newTestImage(t, Options{})
	dir := t.TempDir()
	docker := filepath.Join(dir, "docker.tar")
	if err := img.WriteDockerArchive(ctx, docker, "localhost/rootfsd-test:docker"); err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(dir, "oci.tar")
	if _, err := img.WriteOCIArchive(ctx, archive, LayoutOptions{Tag: "localhost/rootfsd-test:oci"}); err != nil {
		t.Fatal(err)
	}
	root, runroot := filepath.Join(dir, "root"), filepath.Join(dir, "runroot")
	p := func(args ...string) []byte {
		return run(t, podman, append([]string{"--root", root, "--runroot", runroot, "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs", "--events-backend", "none"}, args...)...)
	}
	t.Cleanup(func() {
		exec.Command(podman, "--root", root, "--runroot", runroot, "--storage-driver", "vfs", "rmi", "-a", "-f").Run()
	})
	p("load", "-i", docker)
	p("load", "-i", archive)
	out := string(p("images", "--no-trunc", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"))
	id := strings.TrimPrefix(img.ID(), "sha256:")
	for _, want := range []string{"localhost/rootfsd-test:docker " + id, "localhost/rootfsd-test:oci " + id} {
		if !strings.Contains(out, want) && !strings.Contains(out, strings.Replace(want, " ", " sha256:", 1)) {
			t.Errorf("podman images lacks %q:\n%s", want, out)
		}
	}
}
