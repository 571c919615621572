package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

func jsonUnmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

// golden compares v, as indented JSON, with testdata/name.
func golden(t *testing.T, name string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s changed (-golden +got); if intended, run go test -update:\n%s", name, diff)
	}
}

func gunzip(t testing.TB, blob []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(blob))
	if err != nil {
		t.Fatal(err)
	}
	if zr.Name != "" || !zr.ModTime.IsZero() {
		t.Errorf("gzip header has name %q, mtime %v", zr.Name, zr.ModTime)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

type member struct {
	hdr  *tar.Header
	data []byte
}

// readTar returns the members of a tar file by name, and checks the
// metadata rootfsd promises for its archives.
func readTar(t testing.TB, path string) map[string]member {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]member{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" {
			t.Errorf("%s: owner %d:%d (%s:%s), want 0:0 and no names", h.Name, h.Uid, h.Gid, h.Uname, h.Gname)
		}
		if _, dup := out[h.Name]; dup {
			t.Errorf("%s: twice in the archive", h.Name)
		}
		out[h.Name] = member{h, data}
	}
}

// checkLayout verifies an OCI layout: the marker, every blob hashing to
// its name, and every descriptor reachable from index.json present with
// the right size.
func checkLayout(t testing.TB, dir string) v1.Index {
	t.Helper()
	var marker struct{ ImageLayoutVersion string }
	readJSON(t, filepath.Join(dir, "oci-layout"), &marker)
	if marker.ImageLayoutVersion != "1.0.0" {
		t.Errorf("oci-layout: %+v", marker)
	}
	var idx v1.Index
	readJSON(t, filepath.Join(dir, "index.json"), &idx)
	if idx.SchemaVersion != 2 || idx.MediaType != v1.MediaTypeImageIndex || len(idx.Manifests) == 0 {
		t.Errorf("index.json: %+v", idx)
	}
	ents, err := os.ReadDir(filepath.Join(dir, "blobs", "sha256"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if got := fileSHA256(t, filepath.Join(dir, "blobs", "sha256", e.Name())); got != e.Name() {
			t.Errorf("blob %s hashes to %s", e.Name(), got)
		}
	}
	check := func(d v1.Descriptor) []byte {
		p := filepath.Join(dir, "blobs", "sha256", d.Digest.Encoded())
		data, err := os.ReadFile(p)
		if err != nil {
			t.Errorf("descriptor %s: %v", d.Digest, err)
			return nil
		}
		if int64(len(data)) != d.Size {
			t.Errorf("descriptor %s: size %d, blob has %d", d.Digest, d.Size, len(data))
		}
		return data
	}
	manifests := append([]v1.Descriptor(nil), idx.Manifests...)
	for len(manifests) > 0 {
		md := manifests[0]
		manifests = manifests[1:]
		if md.MediaType == v1.MediaTypeImageIndex { // a multi-platform image
			var nested v1.Index
			if err := json.Unmarshal(check(md), &nested); err != nil || nested.MediaType != v1.MediaTypeImageIndex {
				t.Errorf("index %s: %v %+v", md.Digest, err, nested)
			}
			manifests = append(manifests, nested.Manifests...)
			continue
		}
		var m v1.Manifest
		if err := json.Unmarshal(check(md), &m); err != nil {
			t.Errorf("manifest %s: %v", md.Digest, err)
			continue
		}
		if m.SchemaVersion != 2 || m.MediaType != md.MediaType {
			t.Errorf("manifest %s: schemaVersion %d mediaType %s", md.Digest, m.SchemaVersion, m.MediaType)
		}
		check(m.Config)
		for _, l := range m.Layers {
			check(l)
		}
		if m.Subject != nil {
			check(*m.Subject)
		}
	}
	return idx
}

// LayoutOptions.Link hard-links an uncompressed layer given by Path into
// the layout (the file itself, for a verifying reader such as
// containers/image's copy); without it, and for gzip layers, blobs are
// copies.
func TestLayoutLink(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path, diffID := makeLayer(t, dir, sampleEntries, nil)
	img, err := New(ctx, []Layer{{Path: path, DiffID: diffID}}, testConfig(), Options{WorkDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	src, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		opts LayoutOptions
		link bool
	}{
		{LayoutOptions{Compression: Uncompressed, Link: true}, true},
		{LayoutOptions{Compression: Uncompressed}, false},
		{LayoutOptions{Compression: Gzip, Link: true}, false},
	} {
		out := filepath.Join(dir, fmt.Sprintf("layout-%v-%v", tc.opts.Compression, tc.opts.Link))
		m, err := img.WriteOCI(ctx, out, tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		blob, err := os.Stat(filepath.Join(out, "blobs", "sha256", m.Layers[0].Digest.Encoded()))
		if err != nil {
			t.Fatal(err)
		}
		if os.SameFile(src, blob) != tc.link {
			t.Errorf("%+v: layer blob linked = %v, want %v", tc.opts, !tc.link, tc.link)
		}
	}
}
