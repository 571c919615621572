package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestLayeringGroupsPodman commits an Alpine image of several layers into
// a private containers-storage (vfs, below a temporary directory) and runs
// it with podman on that storage.
func TestLayeringGroupsPodman(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("SKIP: runs as root (podman on a private storage)")
	}
	if _, err := exec.LookPath("podman"); err != nil {
		t.Skip("SKIP: podman is not installed")
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(alpineFixtures(t))))
	defer srv.Close()
	dir := t.TempDir()
	graph, run := filepath.Join(dir, "graph"), filepath.Join(dir, "run")
	conf := filepath.Join(dir, "storage.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf("[storage]\ndriver = \"vfs\"\ngraphroot = %q\nrunroot = %q\n", graph, run)), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unmountBelow(t, graph, run) })
	name := "localhost/rootfsd-layering:test"
	// A child process: containers-storage reads its configuration once
	// per process, and this test's is private.
	cmd := exec.Command(os.Args[0], "--daemon", "never", "--cache-dir", filepath.Join(dir, "cache"), "--format", "json", "build",
		"--distro", "alpine:3.19", "--repository", srv.URL+"/v3.19.1-iso/apks", "--pkgs", "alpine-baselayout,busybox,apk-tools",
		"--layering", "groups", "--tag", name)
	cmd.Env = append(os.Environ(), "ROOTFSD_TEST_MAIN=1", "CONTAINERS_STORAGE_CONF="+conf)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("build: %v\n%s", err, stderr.String())
	}
	var res struct{ Layers []builtLayer }
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("build result %q: %v", out, err)
	}
	layers := res.Layers
	if len(layers) < 3 {
		t.Fatalf("%d layers, want several", len(layers))
	}
	podman := func(args ...string) string {
		t.Helper()
		base := []string{"--root", graph, "--runroot", run, "--storage-driver", "vfs"}
		out, err := exec.Command("podman", append(base, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("podman %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	inspect := podman("image", "inspect", "--format", "{{len .RootFS.Layers}}", name)
	if strings.TrimSpace(inspect) != fmt.Sprint(len(layers)) {
		t.Errorf("podman sees %s layers, the build wrote %d", strings.TrimSpace(inspect), len(layers))
	}
	runOut := podman("run", "--rm", "--runtime", "runc", "--network", "none",
		"--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", name,
		"/bin/sh", "-c", "apk info 2>/dev/null | sort | tr '\\n' ' '; ls /lib/ld-musl-x86_64.so.1")
	for _, want := range []string{"apk-tools", "busybox", "libcrypto3", "musl", "/lib/ld-musl-x86_64.so.1"} {
		if !strings.Contains(runOut, want) {
			t.Errorf("podman run output lacks %q:\n%s", want, runOut)
		}
	}
}
