package image

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// testEpoch is SOURCE_DATE_EPOCH of the test images.
var testEpoch = time.Date(2026, 11, 21, 0, 45, 27, 0, time.UTC)

// entry is one member of a test layer.
type entry struct {
	name     string
	typ      byte
	mode     int64
	uid, gid int
	body     string
	link     string
}

// sampleEntries is a small rootfs with the things that must survive
// untouched: owners other than root, a setuid and a setgid binary, a
// sticky directory, symlinks and a hard link.
var sampleEntries = []entry{
	{name: "bin/", typ: tar.TypeDir, mode: 0o755},
	{name: "bin/sh", typ: tar.TypeReg, mode: 0o755, body: "#!/bin/busybox sh\n"},
	{name: "bin/su", typ: tar.TypeReg, mode: 0o4755, body: "setuid root\n"},
	{name: "etc/", typ: tar.TypeDir, mode: 0o755},
	{name: "etc/passwd", typ: tar.TypeReg, mode: 0o644, body: "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n"},
	{name: "etc/shadow", typ: tar.TypeReg, mode: 0o640, gid: 42, body: "root:*:19000:0:99999:7:::\n"},
	{name: "home/", typ: tar.TypeDir, mode: 0o755},
	{name: "home/user/", typ: tar.TypeDir, mode: 0o700, uid: 1000, gid: 1000},
	{name: "home/user/.profile", typ: tar.TypeReg, mode: 0o644, uid: 1000, gid: 1000, body: "export PS1='$ '\n"},
	{name: "tmp/", typ: tar.TypeDir, mode: 0o1777},
	{name: "usr/", typ: tar.TypeDir, mode: 0o755},
	{name: "usr/bin/", typ: tar.TypeDir, mode: 0o755},
	{name: "usr/bin/wall", typ: tar.TypeReg, mode: 0o2755, gid: 5, body: "setgid tty\n"},
	{name: "usr/bin/sh", typ: tar.TypeSymlink, mode: 0o777, link: "/bin/sh"},
	{name: "usr/bin/su2", typ: tar.TypeLink, mode: 0o4755, link: "bin/su"},
	{name: "var/", typ: tar.TypeDir, mode: 0o755},
	{name: "var/lib/", typ: tar.TypeDir, mode: 0o755, uid: 65534, gid: 65534},
}

// makeLayer writes a deterministic layer tar of entries plus extra files
// and returns its path and SHA256.
func makeLayer(t testing.TB, dir string, entries []entry, extra map[string][]byte) (string, string) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mtime := testEpoch.Add(-time.Hour)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: e.mode, Uid: e.uid, Gid: e.gid, Linkname: e.link, ModTime: mtime, Format: tar.FormatPAX}
		if e.typ == tar.TypeReg {
			h.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, e.body); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range sortedKeys(extra) {
		h := &tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(extra[name])), ModTime: mtime, Format: tar.FormatPAX}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(extra[name]); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "layer.tar")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(buf.Bytes())
	return path, hex.EncodeToString(sum[:])
}

// testConfig is the config of the test images.
func testConfig() Config {
	return Config{
		Created: testEpoch, Architecture: "amd64",
		Env: []string{"LANG=C.UTF-8"}, Cmd: []string{"/bin/sh"}, WorkingDir: "/", User: "0:0",
		Labels:      map[string]string{"org.opencontainers.image.title": "test", "io.rootfsd.lock": "abc"},
		Annotations: map[string]string{"org.opencontainers.image.version": "1.0"},
	}
}

// newTestImage builds an image of the sample layer.
func newTestImage(t testing.TB, opts Options) (*Image, string, string) {
	t.Helper()
	dir := t.TempDir()
	path, diffID := makeLayer(t, dir, sampleEntries, nil)
	if opts.WorkDir == "" {
		opts.WorkDir = dir
	}
	img, err := New(context.Background(), []Layer{{Path: path, DiffID: diffID, Comment: "sample"}}, testConfig(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { img.Close() })
	return img, path, diffID
}

func fileSHA256(t testing.TB, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func readJSON(t testing.TB, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
