package publish

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rootfsd/rootfsd/store/image"
)

var testEpoch = time.Date(2026, 11, 21, 0, 45, 27, 0, time.UTC)

// file is one member of a test layer.
type file struct {
	name     string
	typ      byte
	mode     int64
	uid, gid int
	body     []byte
	link     string
}

// sampleFiles: owners other than root, setuid and setgid files, a sticky
// directory, a symlink and a hard link. Everything containers-storage
// must keep as is.
func sampleFiles() []file {
	return []file{
		{name: "bin/", typ: tar.TypeDir, mode: 0o755},
		{name: "bin/su", typ: tar.TypeReg, mode: 0o4755, body: []byte("setuid root\n")},
		{name: "etc/", typ: tar.TypeDir, mode: 0o755},
		{name: "etc/passwd", typ: tar.TypeReg, mode: 0o644, body: []byte("root:x:0:0::/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n")},
		{name: "etc/group", typ: tar.TypeReg, mode: 0o644, body: []byte("root:x:0:\nshadow:x:42:\nuser:x:1000:\n")},
		{name: "etc/shadow", typ: tar.TypeReg, mode: 0o640, gid: 42, body: []byte("root:*:19000::::::\n")},
		{name: "home/", typ: tar.TypeDir, mode: 0o755},
		{name: "home/user/", typ: tar.TypeDir, mode: 0o700, uid: 1000, gid: 1000},
		{name: "home/user/.profile", typ: tar.TypeReg, mode: 0o644, uid: 1000, gid: 1000, body: []byte("PS1='$ '\n")},
		{name: "tmp/", typ: tar.TypeDir, mode: 0o1777},
		{name: "usr/", typ: tar.TypeDir, mode: 0o755},
		{name: "usr/bin/", typ: tar.TypeDir, mode: 0o755},
		{name: "usr/bin/wall", typ: tar.TypeReg, mode: 0o2755, gid: 5, body: []byte("setgid tty\n")},
		{name: "usr/bin/su", typ: tar.TypeSymlink, mode: 0o777, link: "/bin/su"},
		{name: "usr/bin/su-hard", typ: tar.TypeLink, mode: 0o4755, link: "bin/su"},
		{name: "var/", typ: tar.TypeDir, mode: 0o755},
		{name: "var/empty/", typ: tar.TypeDir, mode: 0o755, uid: 65534, gid: 65534},
	}
}

// writeLayer writes files as a tar and returns its path and SHA256.
func writeLayer(t testing.TB, path string, files []file) (string, string) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Typeflag: f.typ, Mode: f.mode, Uid: f.uid, Gid: f.gid, Linkname: f.link,
			ModTime: testEpoch.Add(-time.Hour), Format: tar.FormatPAX}
		if f.typ == tar.TypeReg {
			h.Size = int64(len(f.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(f.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(buf.Bytes())
	return path, hex.EncodeToString(sum[:])
}

// newImage builds an image of one layer file.
func newImage(t testing.TB, path, diffID string, cmd ...string) *image.Image {
	t.Helper()
	img, err := image.New(context.Background(), []image.Layer{{Path: path, DiffID: diffID}},
		image.Config{Created: testEpoch, Architecture: "amd64", Cmd: cmd, Labels: map[string]string{"io.rootfsd.test": "1"}},
		image.Options{WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { img.Close() })
	return img
}

// helloBinary builds a static program that prints a greeting, so that the
// committed image can be run without any library in it.
func helloBinary(t testing.TB) []byte {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("SKIP: go tool not in PATH: cannot build the static test binary")
	}
	dir := t.TempDir()
	src := "package main\n\nimport \"os\"\n\nfunc main() { os.Stdout.WriteString(\"hello from a rootfsd image\\n\") }\n"
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module hello\n\ngo 1.21\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(goTool, "build", "-trimpath", "-ldflags=-s -w", "-o", "hello", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=", "GOWORK=off", "GOOS=linux", "GOARCH=amd64")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build hello: %v\n%s", err, out)
	}
	data, err := os.ReadFile(filepath.Join(dir, "hello"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// runCmd runs a command and fails the test with its output on error.
func runCmd(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func lookTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("SKIP: %s is not installed: not checked (apt-get install %s)", name, name)
	}
	return p
}
