package main

// Helpers of the layering tests: build results, OCI layouts, flattened
// layer tars.

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// builtLayer is a layer of a build result.
type builtLayer struct {
	Digest   string   `json:"digest"`
	Size     int64    `json:"size"`
	Packages []string `json:"packages"`
}

// buildJSON runs build with --format json and returns the result.
func buildJSON(t *testing.T, args ...string) (layers []builtLayer, layerDigest, manifest string) {
	t.Helper()
	out, stderr, code := runCLI(t, append(args, "--format", "json")...)
	if code != 0 {
		t.Fatalf("build %s: exit %d: %s", strings.Join(args, " "), code, stderr)
	}
	var res struct {
		LayerDigest    string       `json:"layerDigest"`
		ManifestDigest string       `json:"manifestDigest"`
		Layers         []builtLayer `json:"layers"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("build result %q: %v", out, err)
	}
	return res.Layers, res.LayerDigest, res.ManifestDigest
}

// ociLayout is the one image of an OCI layout.
type ociLayout struct {
	dir      string
	blobs    []string // the manifest's layer digests (gzip), "sha256:..."
	diffIDs  []string
	comments []string
}

func readJSONFile(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func blobPath(dir, digest string) string {
	return filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(digest, "sha256:"))
}

func readOCILayout(t *testing.T, dir string) ociLayout {
	t.Helper()
	var index struct {
		Manifests []struct{ Digest string } `json:"manifests"`
	}
	readJSONFile(t, filepath.Join(dir, "index.json"), &index)
	if len(index.Manifests) == 0 {
		t.Fatalf("%s: no manifest", dir)
	}
	var m struct {
		Config struct{ Digest string }   `json:"config"`
		Layers []struct{ Digest string } `json:"layers"`
	}
	readJSONFile(t, blobPath(dir, index.Manifests[0].Digest), &m)
	var cfg struct {
		RootFS struct {
			DiffIDs []string `json:"diff_ids"`
		} `json:"rootfs"`
		History []struct {
			Comment string `json:"comment"`
		} `json:"history"`
	}
	readJSONFile(t, blobPath(dir, m.Config.Digest), &cfg)
	img := ociLayout{dir: dir, diffIDs: cfg.RootFS.DiffIDs}
	for _, l := range m.Layers {
		img.blobs = append(img.blobs, l.Digest)
	}
	for _, h := range cfg.History {
		img.comments = append(img.comments, h.Comment)
	}
	return img
}

// layerTars returns the uncompressed layer tars of an OCI layout.
func (o ociLayout) layerTars(t *testing.T) [][]byte {
	t.Helper()
	var out [][]byte
	for _, d := range o.blobs {
		f, err := os.Open(blobPath(o.dir, d))
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(zr)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, data)
	}
	return out
}

// flatEntry is what a flattened image says about one path.
type flatEntry struct {
	Type          byte
	Mode          int64
	UID, GID      int
	MTime         int64
	Link, Content string
	Xattrs        map[string]string
}

// flattenTars applies layer tars bottom first, a later entry replacing an
// earlier one as a container runtime does; a hard link must find its
// target in its own layer. Whiteouts are refused: a split has none.
func flattenTars(t *testing.T, layers ...[]byte) map[string]flatEntry {
	t.Helper()
	out := map[string]flatEntry{}
	for i, l := range layers {
		here := map[string]bool{}
		tr := tar.NewReader(bytes.NewReader(l))
		for {
			hdr, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("layer %d: %v", i+1, err)
			}
			n := strings.TrimSuffix(hdr.Name, "/")
			if strings.HasPrefix(filepath.Base(n), ".wh.") {
				t.Errorf("layer %d: whiteout %s", i+1, n)
			}
			data, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			if hdr.Typeflag == tar.TypeLink && !here[hdr.Linkname] {
				t.Errorf("layer %d: hard link %s to %s, which is in another layer", i+1, n, hdr.Linkname)
			}
			here[n] = true
			out[n] = flatEntry{Type: hdr.Typeflag, Mode: hdr.Mode, UID: hdr.Uid, GID: hdr.Gid, MTime: hdr.ModTime.Unix(),
				Link: hdr.Linkname, Content: string(data), Xattrs: hdr.PAXRecords}
		}
	}
	return out
}

func readFileT(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// layerNames lists the names in a tar other than directories.
func layerNames(t *testing.T, data []byte) []string {
	t.Helper()
	var out []string
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if hdr.Typeflag != tar.TypeDir {
			out = append(out, hdr.Name)
		}
	}
}
