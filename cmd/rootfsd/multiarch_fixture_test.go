package main

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/rootfsd/rootfsd/deb/debtest"
)

// multiArchArchive serves a signed debian:12 archive for amd64 and arm64:
// libc6 and hello built for each (hello says which), and hello-data,
// "Architecture: all", in both Packages files. It returns the global
// flags for it and the server.
func multiArchArchive(t *testing.T) ([]string, *debtest.Server) {
	t.Helper()
	key := debtest.NewKey(t, "rootfsd multi-arch test archive", debtest.KeyOptions{})
	files := map[string][]byte{}
	text := map[string]*strings.Builder{"amd64": {}, "arm64": {}}
	add := func(name, version, arch, depends, path, body string) {
		var data []debtest.DebEntry
		d := "./"
		for _, part := range strings.Split(filepath.Dir(strings.TrimPrefix(path, "./")), "/") {
			d += part + "/"
			data = append(data, debtest.DebEntry{Name: d, Type: tar.TypeDir})
		}
		data = append(data, debtest.DebEntry{Name: path, Body: body, Mode: 0o755})
		deb := debtest.MakeDeb(t, debtest.Deb{Package: name, Version: version, Arch: arch, Compression: ".gz", Data: data})
		pool := fmt.Sprintf("pool/main/%c/%s/%s_%s_%s.deb", name[0], name, name, version, arch)
		files[pool] = deb
		for _, a := range []string{"amd64", "arm64"} {
			if arch != a && arch != "all" {
				continue
			}
			b := text[a]
			fmt.Fprintf(b, "Package: %s\nVersion: %s\nArchitecture: %s\nMaintainer: Test <test@localhost>\n", name, version, arch)
			if depends != "" {
				fmt.Fprintf(b, "Depends: %s\n", depends)
			}
			fmt.Fprintf(b, "Priority: optional\nFilename: %s\nSize: %d\nSHA256: %s\nDescription: %s\n\n", pool, len(deb), debtest.Sum(deb), name)
		}
	}
	for _, arch := range []string{"amd64", "arm64"} {
		add("libc6", "2.36-9", arch, "", "./lib/libc.so.6", "libc for "+arch+"\n")
		add("hello", "1.0-1", arch, "libc6 (>= 2.36), hello-data", "./usr/bin/hello", "#!/bin/sh\necho hello from "+arch+"\n")
	}
	add("hello-data", "1.0-1", "all", "", "./usr/share/hello/greeting", "hello\n")
	for i, suite := range []string{"bookworm", "bookworm-updates", "bookworm-security"} {
		pk := map[string]map[string]string{"amd64": {"main": ""}, "arm64": {"main": ""}}
		if i == 0 {
			pk = map[string]map[string]string{"amd64": {"main": text["amd64"].String()}, "arm64": {"main": text["arm64"].String()}}
		}
		r := &debtest.Repo{Suite: suite, Date: debtest.Epoch(), ArchPackages: pk, Signers: []*openpgp.Entity{key}}
		for p, b := range r.Build(t) {
			files[p] = b
		}
	}
	srv := debtest.Serve(t, files)
	kr := filepath.Join(t.TempDir(), "archive.gpg")
	if err := os.WriteFile(kr, debtest.PublicKeyring(t, key), 0o644); err != nil {
		t.Fatal(err)
	}
	return []string{"--mirror", srv.URL, "--security-mirror", srv.URL, "--keyring", kr, "--daemon", "never"}, srv
}

// ociBlob reads a blob of the OCI layout at dir.
func ociBlob(t *testing.T, dir string, d v1.Descriptor) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "blobs", "sha256", d.Digest.Encoded()))
	if err != nil {
		t.Fatal(err)
	}
	if got := sha256.Sum256(data); "sha256:"+hex.EncodeToString(got[:]) != d.Digest.String() || int64(len(data)) != d.Size {
		t.Fatalf("blob %s does not match its descriptor", d.Digest)
	}
	return data
}

// tarFiles returns the regular files of a (gzipped) layer by name.
func tarFiles(t *testing.T, layer []byte) map[string]string {
	t.Helper()
	zr, err := gzip.NewReader(strings.NewReader(string(layer)))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	out := map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			b, _ := io.ReadAll(tr)
			out[h.Name] = string(b)
		}
	}
}

// platformSummary is what a client sees of one entry of an index.
type platformSummary struct {
	Platform, ConfigArch, Hello, Libc string
	HasData                           bool
}

// readIndexLayout reads the image index tagged tag in the layout at dir.
func readIndexLayout(t *testing.T, dir, tag string) (string, []platformSummary) {
	t.Helper()
	var top v1.Index
	readJSONFile(t, filepath.Join(dir, "index.json"), &top)
	var ixd *v1.Descriptor
	for i, d := range top.Manifests {
		if d.Annotations[v1.AnnotationRefName] == tag {
			ixd = &top.Manifests[i]
		}
	}
	if ixd == nil || ixd.MediaType != v1.MediaTypeImageIndex {
		t.Fatalf("index.json has no image index tagged %s: %+v", tag, top.Manifests)
	}
	var ix v1.Index
	if err := json.Unmarshal(ociBlob(t, dir, *ixd), &ix); err != nil {
		t.Fatal(err)
	}
	var got []platformSummary
	for _, d := range ix.Manifests {
		var m v1.Manifest
		var cfg v1.Image
		json.Unmarshal(ociBlob(t, dir, d), &m)
		json.Unmarshal(ociBlob(t, dir, m.Config), &cfg)
		if len(m.Layers) != 1 {
			t.Fatalf("%s: %d layers", d.Digest, len(m.Layers))
		}
		files := tarFiles(t, ociBlob(t, dir, m.Layers[0]))
		_, data := files["usr/share/hello/greeting"]
		p := d.Platform.OS + "/" + d.Platform.Architecture
		got = append(got, platformSummary{p, cfg.OS + "/" + cfg.Architecture, strings.TrimSpace(files["usr/bin/hello"]), strings.TrimSpace(files["lib/libc.so.6"]), data})
	}
	return ixd.Digest.String(), got
}
