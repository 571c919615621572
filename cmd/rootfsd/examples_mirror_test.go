//go:build mirror

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rootfsd/rootfsd/cmd/rootfsd/spec"
)

// TestMirrorExamples builds the Debian and Ubuntu examples from the real
// archive (the mirror from ROOTFSD_MIRROR or the host), all with one
// cache, and checks each result (see examples in examples_test.go).
func TestMirrorExamples(t *testing.T) {
	work := copyExamples(t)
	cache := filepath.Join(t.TempDir(), "cache")
	for _, f := range exampleFiles(t) {
		ex := examples[f]
		if !ex.mirror {
			continue
		}
		t.Run(f, func(t *testing.T) {
			s, err := spec.Load(filepath.Join(work, f))
			if err != nil {
				t.Fatal(err)
			}
			skipWithoutMirror(t, s.Distro)
			ex.check(t, buildExample(t, cache, filepath.Join(work, f)))
		})
	}
}

// TestMirrorExampleDistroless is docs/guides/distroless.md: a static Go
// program added to examples/debian-static.yaml with --add runs in podman
// as 65532 and finds the CA bundle, a time zone, /etc/services and
// /etc/nsswitch.conf.
func TestMirrorExampleDistroless(t *testing.T) {
	needTool(t, "podman")
	skipWithoutMirror(t, "debian:12")
	dir := t.TempDir()
	app := filepath.Join(dir, "app")
	build := exec.Command("go", "build", "-trimpath", "-o", app, "./testdata/distroless")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	work := copyExamples(t)
	name := fmt.Sprintf("localhost/rootfsd-test-distroless:%d", os.Getpid())
	removeImage(t, name)
	_, stderr, code := runCLI(t, "--cache-dir", filepath.Join(dir, "cache"), "--daemon", "never", "build",
		"-f", filepath.Join(work, "debian-static.yaml"), "--add", app+":/app:0755", "--entrypoint", "/app", "--tag", name)
	if code != 0 {
		t.Fatalf("build: exit %d: %s", code, stderr)
	}
	out := podmanRun(t, name)
	for _, want := range []string{"uid=65532 gid=65532 wd=/home/nonroot ", " zone=Europe/Berlin https=443 "} {
		if !strings.Contains(out, want) {
			t.Errorf("the program says %q, want %q", out, want)
		}
	}
	if strings.Contains(out, " certs=0 ") || strings.Contains(out, " nsswitch=0") {
		t.Errorf("the program says %q", out)
	}
}
