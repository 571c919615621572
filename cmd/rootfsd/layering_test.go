package main

import (
	"archive/tar"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/google/go-cmp/cmp"

	"github.com/rootfsd/rootfsd/deb/debtest"
)

// layeringArchive serves a signed debian:12 archive on one base (libc6,
// coreutils, and usr-links, whose /lib -> usr/lib makes libc6's
// /lib/x86_64-linux-gnu files land below usr/lib as on a merged-/usr
// system) and two applications, hello and world, that both need it.
func layeringArchive(t *testing.T) []string {
	t.Helper()
	key := debtest.NewKey(t, "rootfsd layering test archive", debtest.KeyOptions{})
	dir := func(n string) debtest.DebEntry { return debtest.DebEntry{Name: n, Type: tar.TypeDir, Mode: 0o755} }
	file := func(n, body string, mode int64) debtest.DebEntry {
		return debtest.DebEntry{Name: n, Body: body, Mode: mode}
	}
	pkgs := []struct {
		name, depends string
		data          []debtest.DebEntry
	}{
		{"usr-links", "", []debtest.DebEntry{dir("./"), dir("./usr/"), dir("./usr/lib/"), {Name: "./lib", Type: tar.TypeSymlink, Link: "usr/lib"}}},
		{"libc6", "Pre-Depends: usr-links", []debtest.DebEntry{dir("./"), dir("./lib/"), dir("./lib/x86_64-linux-gnu/"),
			file("./lib/x86_64-linux-gnu/libc.so.6", strings.Repeat("libc ", 2000), 0o755),
			file("./lib/x86_64-linux-gnu/libm.so.6", "libm", 0o644),
			dir("./usr/"), dir("./usr/share/"), dir("./usr/share/libc6/"), file("./usr/share/libc6/data", "data", 0o644)}},
		{"coreutils", "Depends: libc6", []debtest.DebEntry{dir("./"), dir("./usr/"), dir("./usr/bin/"),
			file("./usr/bin/ls", "#!/bin/sh\necho ls\n", 0o755), file("./usr/bin/cat", "#!/bin/sh\necho cat\n", 0o755)}},
		{"hello", "Depends: libc6, coreutils", []debtest.DebEntry{dir("./"), dir("./usr/"), dir("./usr/bin/"),
			file("./usr/bin/hello", "#!/bin/sh\necho hello\n", 0o755)}},
		{"world", "Depends: libc6, coreutils", []debtest.DebEntry{dir("./"), dir("./usr/"), dir("./usr/bin/"), dir("./etc/"),
			file("./usr/bin/world", "#!/bin/sh\necho world\n", 0o755), file("./etc/world.conf", "greeting=world\n", 0o644)}},
	}
	files := map[string][]byte{}
	var text strings.Builder
	for _, p := range pkgs {
		data := debtest.MakeDeb(t, debtest.Deb{Package: p.name, Version: "1.0-1", Compression: ".gz", Data: p.data})
		pool := fmt.Sprintf("pool/main/%c/%s/%s_1.0-1_amd64.deb", p.name[0], p.name, p.name)
		files[pool] = data
		fmt.Fprintf(&text, "Package: %s\nVersion: 1.0-1\nArchitecture: amd64\nMaintainer: Test <test@localhost>\n", p.name)
		if p.depends != "" {
			text.WriteString(p.depends + "\n")
		}
		fmt.Fprintf(&text, "Priority: optional\nFilename: %s\nSize: %d\nSHA256: %s\nDescription: %s\n\n", pool, len(data), debtest.Sum(data), p.name)
	}
	for i, suite := range []string{"bookworm", "bookworm-updates", "bookworm-security"} {
		pk := ""
		if i == 0 {
			pk = text.String()
		}
		r := &debtest.Repo{Suite: suite, Date: debtest.Epoch(), Arch: "amd64", Packages: map[string]string{"main": pk}, Signers: []*openpgp.Entity{key}}
		for p, b := range r.Build(t) {
			files[p] = b
		}
	}
	srv := debtest.Serve(t, files)
	kr := filepath.Join(t.TempDir(), "archive.gpg")
	if err := os.WriteFile(kr, debtest.PublicKeyring(t, key), 0o644); err != nil {
		t.Fatal(err)
	}
	return []string{"--daemon", "never", "--mirror", srv.URL, "--security-mirror", srv.URL, "--keyring", kr}
}

// TestLayeringGroupsDeb builds two images on the same base with
// --layering groups: their base layers are the same blobs, each image
// flattens to exactly the tree of its single layer, and a build on another
// cache gives the same bytes.
func TestLayeringGroupsDeb(t *testing.T) {
	g := layeringArchive(t)
	dir := t.TempDir()
	build := func(cache, pkg, name string) ([]builtLayer, string, ociLayout) {
		t.Helper()
		oci, full := filepath.Join(dir, name), filepath.Join(dir, name+".tar")
		layers, layerDigest, manifest := buildJSON(t, append(g, "--cache-dir", filepath.Join(dir, cache), "build", "--distro", "debian:12",
			"--variant", "custom", "--pkgs", pkg, "--layering", "groups", "--output", "oci:"+oci, "--output", "tar:"+full)...)
		if layerDigest != sha256File(t, full) {
			t.Errorf("%s: layerDigest %s is not the tar output's", name, layerDigest)
		}
		img := readOCILayout(t, oci)
		tars := img.layerTars(t)
		if diff := cmp.Diff(flattenTars(t, readFileT(t, full)), flattenTars(t, tars...)); diff != "" {
			t.Errorf("%s: the layers flattened differ from the single layer (-single +groups):\n%s", name, diff)
		}
		if len(layers) != len(img.diffIDs) {
			t.Fatalf("%s: result lists %d layers, the image has %d", name, len(layers), len(img.diffIDs))
		}
		for i, l := range layers {
			if "sha256:"+l.Digest != img.diffIDs[i] {
				t.Errorf("%s: layer %d: result %s, image diffID %s", name, i+1, l.Digest, img.diffIDs[i])
			}
		}
		return layers, manifest, img
	}
	hello, helloManifest, helloImg := build("c1", "hello", "hello")
	world, _, worldImg := build("c1", "world", "world")

	var groups [][]string
	for _, l := range hello {
		groups = append(groups, l.Packages)
	}
	if diff := cmp.Diff([][]string{{"libc6"}, {"coreutils"}, nil}, groups); diff != "" {
		t.Fatalf("hello's layers (-want +got):\n%s", diff)
	}
	for i := range 2 {
		if hello[i].Digest != world[i].Digest || helloImg.blobs[i] != worldImg.blobs[i] {
			t.Errorf("layer %d (%v): hello %s (gzip %s), world %s (gzip %s): not shared", i+1, hello[i].Packages,
				hello[i].Digest, helloImg.blobs[i], world[i].Digest, worldImg.blobs[i])
		}
	}
	if hello[2].Digest == world[2].Digest {
		t.Error("the last layers of hello and world are equal")
	}
	libc := layerNames(t, helloImg.layerTars(t)[0])
	if diff := cmp.Diff([]string{"usr/lib/x86_64-linux-gnu/libc.so.6", "usr/lib/x86_64-linux-gnu/libm.so.6", "usr/share/libc6/data"}, libc); diff != "" {
		t.Errorf("libc6's layer (-want +got):\n%s", diff)
	}
	wantComments := []string{"packages: libc6", "packages: coreutils", "debian:12 lock "}
	for i, w := range wantComments {
		if i >= len(helloImg.comments) || !strings.HasPrefix(helloImg.comments[i], w) {
			t.Errorf("history comment %d: %q, want %q...", i+1, helloImg.comments, w)
		}
	}
	if c := helloImg.comments[len(helloImg.comments)-1]; !strings.Contains(c, "the other 2 packages and the files no package owns") {
		t.Errorf("last layer's comment %q does not say what it holds", c)
	}

	// Another cache, the same bytes; a rebuild on the first cache reuses
	// the split.
	again, againManifest, _ := build("c2", "hello", "hello2")
	if diff := cmp.Diff(hello, again); diff != "" || againManifest != helloManifest {
		t.Errorf("a build on another cache differs: manifest %s vs %s\n%s", againManifest, helloManifest, diff)
	}
	_, stderr, code := runCLI(t, append(g, "--cache-dir", filepath.Join(dir, "c1"), "--verbose", "build", "--distro", "debian:12",
		"--variant", "custom", "--pkgs", "hello", "--layering", "groups", "--output", "oci:"+filepath.Join(dir, "hello3"))...)
	if code != 0 || !strings.Contains(stderr, "3 layers from cache") {
		t.Errorf("rebuild: exit %d, the split was not reused:\n%s", code, stderr)
	}

	// A spec file's layering: groups, and --layering single overriding it.
	spec := filepath.Join(dir, "rootfs.yaml")
	text := "distro: debian:12\nvariant: custom\npackages: [hello]\nlayering: groups\noutputs: [\"oci:spec-img\"]\n"
	if err := os.WriteFile(spec, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	fromSpec, _, _ := buildJSON(t, append(g, "--cache-dir", filepath.Join(dir, "c1"), "build", "-f", spec)...)
	if diff := cmp.Diff(hello, fromSpec); diff != "" {
		t.Errorf("spec build's layers differ from the command line's (-flags +spec):\n%s", diff)
	}
	single, layer, _ := buildJSON(t, append(g, "--cache-dir", filepath.Join(dir, "c1"), "build", "-f", spec, "--layering", "single")...)
	if len(single) != 1 || single[0].Digest != layer {
		t.Errorf("--layering single over the spec: layers %+v, want the one layer %s", single, layer)
	}
	if _, stderr, code := runCLI(t, append(g, "build", "--distro", "debian:12", "--pkgs", "hello", "--layering", "per-package", "--output", "oci:x")...); code != 2 || !strings.Contains(stderr, "--layering \"per-package\": use single") {
		t.Errorf("--layering per-package: exit %d: %s", code, stderr)
	}
}
