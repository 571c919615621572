package main

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rootfsd/rootfsd/cmd/rootfsd/engine"
	"github.com/rootfsd/rootfsd/repo"
	"github.com/rootfsd/rootfsd/store/remote/registrytest"
)

// untarTo unpacks a tar of plain files and directories (an OCI archive)
// into dir.
func untarTo(t *testing.T, file, dir string) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, filepath.FromSlash(hdr.Name))
		if hdr.Typeflag == tar.TypeDir {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		data, err := io.ReadAll(tr)
		if err == nil {
			err = os.MkdirAll(filepath.Dir(p), 0o755)
		}
		if err == nil {
			err = os.WriteFile(p, data, 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func sha256Hex(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// TestLayeringGroupsAlpine builds two Alpine images on the same base as
// oci-archive and docker-archive with --layering groups: musl's and
// busybox's layers are shared, each image flattens to its single layer,
// the docker archive carries the same layers, and a push to a registry
// sends them all.
func TestLayeringGroupsAlpine(t *testing.T) {
	srv := httptest.NewServer(http.FileServer(http.Dir(alpineFixtures(t))))
	defer srv.Close()
	dir := t.TempDir()
	cache := filepath.Join(dir, "cache")
	type built struct {
		layers []builtLayer
		oci    ociLayout
		lock   string
	}
	build := func(name, pkgs string) built {
		t.Helper()
		full, lock := filepath.Join(dir, name+".tar"), filepath.Join(dir, name+".lock")
		layers, _, _ := buildJSON(t, "--daemon", "never", "--cache-dir", cache, "build", "--distro", "alpine:3.19",
			"--repository", srv.URL+"/v3.19.1-iso/apks", "--pkgs", pkgs, "--layering", "groups", "--write-lock", lock,
			"--output", "tar:"+full, "--output", "oci-archive:"+filepath.Join(dir, name+"-oci.tar"),
			"--output", "docker-archive:"+filepath.Join(dir, name+"-docker.tar"))
		layout := filepath.Join(dir, name+"-layout")
		untarTo(t, filepath.Join(dir, name+"-oci.tar"), layout)
		img := readOCILayout(t, layout)
		tars := img.layerTars(t)
		if diff := cmp.Diff(flattenTars(t, readFileT(t, full)), flattenTars(t, tars...)); diff != "" {
			t.Errorf("%s: the layers flattened differ from the single layer (-single +groups):\n%s", name, diff)
		}
		// The docker archive holds the same layers, uncompressed.
		docker := filepath.Join(dir, name+"-docker")
		untarTo(t, filepath.Join(dir, name+"-docker.tar"), docker)
		var manifest []struct{ Layers []string }
		readJSONFile(t, filepath.Join(docker, "manifest.json"), &manifest)
		if len(manifest) != 1 || len(manifest[0].Layers) != len(layers) {
			t.Fatalf("%s: docker archive manifest %+v, want %d layers", name, manifest, len(layers))
		}
		for i, p := range manifest[0].Layers {
			if got := sha256Hex(readFileT(t, filepath.Join(docker, p))); got != layers[i].Digest || got != sha256Hex(tars[i]) {
				t.Errorf("%s: docker archive layer %d is sha256:%s, want %s", name, i+1, got, layers[i].Digest)
			}
		}
		return built{layers, img, lock}
	}
	a := build("a", "alpine-baselayout,busybox,zlib")
	b := build("b", "alpine-baselayout,busybox,apk-tools")

	var ga, gb [][]string
	for _, l := range a.layers {
		ga = append(ga, l.Packages)
	}
	for _, l := range b.layers {
		gb = append(gb, l.Packages)
	}
	if diff := cmp.Diff([][]string{{"musl"}, {"busybox"}, nil}, ga); diff != "" {
		t.Fatalf("a's layers (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([][]string{{"musl"}, {"busybox"}, {"libcrypto3"}, {"libssl3"}, nil}, gb); diff != "" {
		t.Fatalf("b's layers (-want +got):\n%s", diff)
	}
	for i := range 2 {
		if a.layers[i].Digest != b.layers[i].Digest || a.oci.blobs[i] != b.oci.blobs[i] {
			t.Errorf("layer %d (%v) is not shared: %s (gzip %s) and %s (gzip %s)", i+1, a.layers[i].Packages,
				a.layers[i].Digest, a.oci.blobs[i], b.layers[i].Digest, b.oci.blobs[i])
		}
	}
	if !strings.HasPrefix(a.oci.comments[1], "packages: busybox") {
		t.Errorf("busybox layer's history comment: %q", a.oci.comments[1])
	}

	// Through the daemon, on another cache: the same layers.
	sock := filepath.Join(socketDir(t), "d.sock")
	startDaemon(t, sock, filepath.Join(dir, "daemon-cache"))
	viaDaemon, _, _ := buildJSON(t, "--socket", sock, "--daemon", "always", "build", "--distro", "alpine:3.19",
		"--repository", srv.URL+"/v3.19.1-iso/apks", "--pkgs", "alpine-baselayout,busybox,zlib", "--layering", "groups",
		"--output", "oci:"+filepath.Join(dir, "daemon-oci"))
	if diff := cmp.Diff(a.layers, viaDaemon); diff != "" {
		t.Errorf("the daemon's layers on another cache differ (-in-process +daemon):\n%s", diff)
	}

	// A push to a registry sends every layer: the engine, from the lock,
	// with the layer and its split in the cache.
	reg := registrytest.Start(t)
	l, err := repo.ReadLock(a.lock)
	if err != nil {
		t.Fatal(err)
	}
	e := engine.New(engine.Config{CacheDir: cache, InsecureRegistry: true})
	res, err := e.Build(context.Background(), engine.BuildRequest{Request: l.Request, Lock: l, Layering: "groups",
		Outputs: []string{"docker://" + reg.Host + "/rootfsd/groups:a"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", "http://"+reg.Host+"/v2/rootfsd/groups/manifests/a", nil)
	req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var m struct {
		Layers []struct{ Digest string } `json:"layers"`
	}
	if err := json.Unmarshal(data, &m); err != nil || resp.StatusCode != 200 {
		t.Fatalf("pushed manifest: %s: %v: %s", resp.Status, err, data)
	}
	var pushed []string
	for _, x := range m.Layers {
		pushed = append(pushed, x.Digest)
	}
	if diff := cmp.Diff(a.oci.blobs, pushed); diff != "" || "sha256:"+sha256Hex(data) != res.ManifestDigest {
		t.Errorf("pushed layers (-oci-archive +registry):\n%s\nmanifest %s, result %s", diff, sha256Hex(data), res.ManifestDigest)
	}
	for _, d := range pushed {
		if _, err := os.Stat(reg.BlobPath(strings.TrimPrefix(d, "sha256:"))); err != nil {
			t.Errorf("layer %s not in the registry: %v", d, err)
		}
	}

	// The registry cache carries the full layer; a runner that pulls it
	// splits it into the same layers.
	cacheRef := "oci://" + reg.Host + "/ci/rootfs"
	if _, stderr, code := runCLI(t, "--daemon", "never", "--cache-dir", cache, "build", "--lock", a.lock,
		"--cache-to", cacheRef, "--plain-http", "--output", "tar:"+filepath.Join(dir, "pushed.tar")); code != 0 {
		t.Fatalf("build --cache-to: exit %d: %s", code, stderr)
	}
	out, stderr, code := runCLI(t, "--daemon", "never", "--cache-dir", filepath.Join(dir, "runner"), "--verbose", "--format", "json",
		"build", "--lock", a.lock, "--cache-from", cacheRef, "--plain-http", "--layering", "groups", "--output", "oci:"+filepath.Join(dir, "runner-oci"))
	var pulled struct{ Layers []builtLayer }
	if code != 0 || json.Unmarshal([]byte(out), &pulled) != nil || !strings.Contains(stderr, "from "+cacheRef) {
		t.Fatalf("build --cache-from: exit %d, layer not pulled: %s\n%s", code, out, stderr)
	}
	if diff := cmp.Diff(a.layers, pulled.Layers); diff != "" {
		t.Errorf("layers split from the pulled layer differ (-built +pulled):\n%s", diff)
	}
}
