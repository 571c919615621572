package check

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// tarDir writes the tree below root as a tar, the way a rootfs layer
// holds it (relative names, symlinks kept).
func tarDir(t *testing.T, root string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		link := ""
		if fi.Mode()&fs.ModeSymlink != 0 {
			link, _ = os.Readlink(p)
		}
		hdr, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		hdr.Name = filepath.ToSlash(rel)
		if fi.IsDir() {
			hdr.Name += "/"
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if fi.Mode().IsRegular() {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			_, err = tw.Write(data)
			return err
		}
		return nil
	})
	must(t, err)
	must(t, tw.Close())
	return buf.Bytes()
}

func tarOf(t *testing.T, files map[string]string) []byte {
	t.Helper()
	return tarBytes(files)
}

// tarBytes is a tar of regular files, in name order.
func tarBytes(files map[string]string) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, name := range sortedKeys(files) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(files[name])), Typeflag: tar.TypeReg}); err != nil {
			panic(err)
		}
		if _, err := tw.Write([]byte(files[name])); err != nil {
			panic(err)
		}
	}
	if err := tw.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

func sortedKeys(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}

func gz(t *testing.T, data []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write(data)
	must(t, err)
	must(t, zw.Close())
	return buf.Bytes()
}

func digest(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// ociLayout writes an OCI image layout with the given layers (plain tar,
// gzip-compressed when compress is set) and configuration.
func ociLayout(t *testing.T, dir string, cfg ImageConfig, layers [][]byte, compress bool) {
	t.Helper()
	put := func(b []byte) string {
		d := digest(b)
		p := filepath.Join(dir, "blobs/sha256", strings.TrimPrefix(d, "sha256:"))
		must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		must(t, os.WriteFile(p, b, 0o644))
		return d
	}
	var diffIDs []string
	var ls []map[string]any
	for _, l := range layers {
		diffIDs = append(diffIDs, digest(l))
		mt, blob := "application/vnd.oci.image.layer.v1.tar", l
		if compress {
			mt, blob = mt+"+gzip", gz(t, l)
		}
		ls = append(ls, map[string]any{"mediaType": mt, "digest": put(blob), "size": len(blob)})
	}
	cfgJSON, _ := json.Marshal(map[string]any{"architecture": "amd64", "os": "linux", "config": cfg, "rootfs": map[string]any{"type": "layers", "diff_ids": diffIDs}})
	cd := put(cfgJSON)
	man, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
		"config": map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": len(cfgJSON)}, "layers": ls})
	md := put(man)
	idx, _ := json.Marshal(map[string]any{"schemaVersion": 2, "manifests": []any{map[string]any{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": len(man),
		"platform": map[string]string{"os": "linux", "architecture": "amd64"}}}})
	must(t, os.WriteFile(filepath.Join(dir, "index.json"), idx, 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644))
}

func summary(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, string(f.Kind)+" "+f.Missing+" "+strings.Join(f.Paths, ","))
	}
	return out
}

func TestLoadTarMatchesDir(t *testing.T) {
	root := hostTree(t, "/usr/bin/openssl")
	write(t, root, "var/lib/dpkg/info/openssl.list", "/usr/bin/openssl\n", 0o644)
	must(t, os.Remove(findLib(t, root, "libcrypto.so.3")))
	want := runDir(t, root, Options{})
	if len(want) == 0 {
		t.Fatal("no findings on the directory")
	}
	for name, data := range map[string][]byte{"plain": tarDir(t, root), "gzip": gz(t, tarDir(t, root))} {
		file := filepath.Join(t.TempDir(), "rootfs.tar")
		must(t, os.WriteFile(file, data, 0o644))
		tg, err := Load(context.Background(), file, LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if tg.Kind != KindTar || tg.Config != nil {
			t.Errorf("%s: kind %s, config %v", name, tg.Kind, tg.Config)
		}
		got, err := Run(context.Background(), tg.FS, Options{})
		tg.Close()
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s tar vs directory (-dir +tar):\n%s", name, d)
		}
	}
}

func TestLoadImages(t *testing.T) {
	root := hostTree(t, "/usr/bin/openssl")
	write(t, root, "etc/ssl/certs/ca-certificates.crt", "x", 0o644)
	write(t, root, "etc/app/old.conf", "x", 0o644)
	base := tarDir(t, root)
	libssl, _ := filepath.Rel(root, findLib(t, root, "libssl.so.3"))
	dir, file := filepath.Split(filepath.ToSlash(libssl))
	top := tarOf(t, map[string]string{dir + ".wh." + file: "", "etc/app/.wh..wh..opq": "", "etc/passwd": "root:x:0:0::/root:/bin/sh\n"})
	cfg := ImageConfig{Entrypoint: []string{"/usr/bin/openssl"}, User: "app"}
	want := []string{"missing-library libssl.so.3 /usr/bin/openssl", "unknown-user app "}

	layout := t.TempDir()
	ociLayout(t, layout, cfg, [][]byte{base, top}, true)
	archive := filepath.Join(t.TempDir(), "image.tar")
	must(t, os.WriteFile(archive, tarDir(t, layout), 0o644))

	docker := t.TempDir()
	must(t, os.WriteFile(filepath.Join(docker, "l1.tar"), base, 0o644))
	must(t, os.WriteFile(filepath.Join(docker, "l2.tar"), top, 0o644))
	dcfg, _ := json.Marshal(map[string]any{"config": cfg, "rootfs": map[string]any{"diff_ids": []string{digest(base), digest(top)}}})
	must(t, os.WriteFile(filepath.Join(docker, "cfg.json"), dcfg, 0o644))
	must(t, os.WriteFile(filepath.Join(docker, "manifest.json"), []byte(`[{"Config":"cfg.json","RepoTags":["x:1"],"Layers":["l1.tar","l2.tar"]}]`), 0o644))
	dockerArchive := filepath.Join(t.TempDir(), "docker.tar")
	must(t, os.WriteFile(dockerArchive, tarDir(t, docker), 0o644))

	for kind, p := range map[string]string{KindOCI: layout, KindOCIArchive: archive, KindDockerArchive: dockerArchive} {
		tg, err := Load(context.Background(), p, LoadOptions{})
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		if tg.Kind != kind {
			t.Errorf("%s loaded as %s", kind, tg.Kind)
		}
		if _, err := fs.Stat(tg.FS, "etc/app/old.conf"); err == nil {
			t.Errorf("%s: opaque whiteout did not hide etc/app/old.conf", kind)
		}
		got, err := Run(context.Background(), tg.FS, Options{Config: tg.Config})
		tg.Close()
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want, summary(got)); d != "" {
			t.Errorf("%s (-want +got):\n%s", kind, d)
		}
	}

	// A layer blob replaced by another valid layer is refused.
	blobs, _ := filepath.Glob(filepath.Join(layout, "blobs/sha256/*"))
	for _, b := range blobs {
		if fi, _ := os.Stat(b); fi.Size() > 10000 { // the base layer
			must(t, os.WriteFile(b, gz(t, tarOf(t, map[string]string{"etc/passwd": "evil"})), 0o644))
		}
	}
	if _, err := Load(context.Background(), layout, LoadOptions{}); err == nil || !strings.Contains(err.Error(), "digest") {
		t.Errorf("replaced layer: %v", err)
	}
}

func TestLoadRefusesEscapes(t *testing.T) {
	file := filepath.Join(t.TempDir(), "evil.tar")
	must(t, os.WriteFile(file, tarOf(t, map[string]string{"../../etc/evil": "x", "ok": "y"}), 0o644))
	tg, err := Load(context.Background(), file, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	// "../../etc/evil" is cleaned to etc/evil inside the tree.
	if _, err := fs.Stat(tg.FS, "etc/evil"); err != nil {
		t.Errorf("cleaned entry missing: %v", err)
	}
	if _, err := Load(context.Background(), filepath.Join(t.TempDir(), "nothing"), LoadOptions{}); err == nil {
		t.Error("missing target loaded")
	}
	junk := filepath.Join(t.TempDir(), "junk")
	must(t, os.WriteFile(junk, bytes.Repeat([]byte("junk"), 300), 0o644))
	if _, err := Load(context.Background(), junk, LoadOptions{}); err == nil || !strings.Contains(err.Error(), "not a directory, tar or image") {
		t.Errorf("junk: %v", err)
	}
}

// TestLoadTarContentInPlace: a plain tar's file contents are read where
// they lie in the file, through every skip archive/tar makes, and a tar
// cut short is an error, not a short file.
func TestLoadTarContentInPlace(t *testing.T) {
	files := []struct {
		name string
		body []byte
	}{
		{"a/empty", nil},
		{"a/small", []byte("small")},
		{"a/mid", bytes.Repeat([]byte("m"), 5000)},
		{"b/big", bytes.Repeat([]byte("0123456789abcdef"), 200_000)},
		{"c/" + strings.Repeat("long-name-", 12), bytes.Repeat([]byte("L"), 7001)},
		{"c/last", bytes.Repeat([]byte("z"), 4097)},
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		must(t, tw.WriteHeader(&tar.Header{Name: f.name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(f.body))}))
		_, err := tw.Write(f.body)
		must(t, err)
	}
	must(t, tw.Close())
	file := filepath.Join(t.TempDir(), "rootfs.tar")
	must(t, os.WriteFile(file, buf.Bytes(), 0o644))
	tg, err := Load(context.Background(), file, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	for _, f := range files {
		got, err := fs.ReadFile(tg.FS, f.name)
		if err != nil || !bytes.Equal(got, f.body) {
			t.Errorf("%s: %d bytes, %v; want %d bytes", f.name, len(got), err, len(f.body))
		}
	}
	cut := filepath.Join(t.TempDir(), "cut.tar")
	must(t, os.WriteFile(cut, buf.Bytes()[:1<<20], 0o644))
	if tg, err := Load(context.Background(), cut, LoadOptions{}); err == nil {
		tg.Close()
		t.Error("a tar cut inside a file loaded without error")
	}
}
