//go:build mirror

package main

// End-to-end image tests with the real tools: podman runs what rootfsd
// committed into containers-storage, skopeo inspects it. Debian and Ubuntu
// images come from the real mirrors (skipped loudly when they do not
// answer); the Alpine image from the shared fixtures.

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
	"time"
)

func needTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Skipf("SKIPPING: %s is not installed (make deps installs it)", name)
	}
}

// podmanRun runs a command in image with the flags this machine kind needs.
func podmanRun(t *testing.T, image string, args ...string) string {
	t.Helper()
	base := []string{"run", "--rm", "--runtime", "runc", "--network", "none",
		"--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", image}
	out, err := exec.Command("podman", append(base, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("podman run %s %v: %v\n%s", image, args, err, out)
	}
	return string(out)
}

func removeImage(t *testing.T, name string) {
	t.Cleanup(func() { _ = exec.Command("podman", "rmi", "-f", name).Run() })
}

func TestMirrorPodmanAlpine(t *testing.T) {
	needTool(t, "podman")
	srv := httptest.NewServer(http.FileServer(http.Dir(alpineFixtures(t))))
	defer srv.Close()
	name := fmt.Sprintf("localhost/rootfsd-test-alpine:%d", os.Getpid())
	removeImage(t, name)
	_, stderr, code := runCLI(t, "--cache-dir", t.TempDir(), "build", "--distro", "alpine:3.19",
		"--repository", srv.URL+"/v3.19.1-iso/apks",
		"--pkgs", "alpine-baselayout,alpine-keys,apk-tools,busybox,libc-utils,alpine-release", "--tag", name)
	if code != 0 {
		t.Fatalf("build: exit %d: %s", code, stderr)
	}
	out := podmanRun(t, name, "/bin/sh", "-c", "cat /etc/alpine-release; apk info -v 2>/dev/null | sort")
	lines := strings.Fields(out)
	if len(lines) == 0 || lines[0] != "3.19.1" {
		t.Fatalf("alpine-release: %q", out)
	}
	if len(lines[1:]) != 16 || !strings.Contains(out, "busybox-1.36.1-r15") || !strings.Contains(out, "apk-tools-2.14.0-r5") {
		t.Errorf("apk info inside the image lists %d packages:\n%s", len(lines[1:]), out)
	}
}

func TestMirrorPodmanDebian(t *testing.T) {
	needTool(t, "podman")
	needTool(t, "skopeo")
	for _, distro := range []string{"ubuntu:24.04", "debian:12"} {
		t.Run(distro, func(t *testing.T) {
			skipWithoutMirror(t, distro)
			name := fmt.Sprintf("localhost/rootfsd-test-%s:%d", strings.ReplaceAll(distro, ":", "-"), os.Getpid())
			removeImage(t, name)
			dir := t.TempDir()
			lock := filepath.Join(dir, "rootfs.lock")
			args := []string{"--cache-dir", filepath.Join(dir, "cache"), "build", "--distro", distro, "--pkgs", "ca-certificates",
				"--tag", name, "--label", "org.example.test=yes", "--write-lock", lock}
			start := time.Now()
			_, stderr, code := runCLI(t, args...)
			if code != 0 {
				t.Fatalf("build: exit %d: %s", code, stderr)
			}
			t.Logf("build --tag took %v", time.Since(start))
			if out := podmanRun(t, name, "openssl", "version"); !strings.HasPrefix(out, "OpenSSL ") {
				t.Errorf("openssl version: %q", out)
			}
			// stdout only: skopeo logs warnings on stderr.
			out, err := exec.Command("skopeo", "inspect", "containers-storage:"+name).Output()
			if err != nil {
				t.Fatalf("skopeo inspect: %v\n%s", err, out)
			}
			var info struct {
				Labels       map[string]string
				Architecture string
				Os           string
			}
			if err := json.Unmarshal(out, &info); err != nil || info.Labels["org.example.test"] != "yes" || info.Os != "linux" || info.Architecture != "amd64" {
				t.Errorf("skopeo inspect: %v %+v", err, info)
			}
			// Two builds from the same lock give the same image ID.
			var first, second struct{ ImageID, ManifestDigest string }
			for i, res := range []*struct{ ImageID, ManifestDigest string }{&first, &second} {
				out, stderr, code := runCLI(t, "--cache-dir", filepath.Join(dir, fmt.Sprintf("cache-lock-%d", i)), "--format", "json", "build", "--lock", lock, "--tag", name)
				if code != 0 {
					t.Fatalf("build --lock: exit %d: %s", code, stderr)
				}
				if err := json.Unmarshal([]byte(out), res); err != nil {
					t.Fatal(err)
				}
			}
			if first.ImageID == "" || first != second {
				t.Errorf("builds from one lock differ: %+v vs %+v", first, second)
			}
		})
	}
}

// skipWithoutMirror skips loudly when the release's mirror does not answer.
func skipWithoutMirror(t *testing.T, distro string) {
	t.Helper()
	out, stderr, code := runCLI(t, "--cache-dir", t.TempDir(), "--format", "json", "resolve", "--distro", distro, "--variant", "custom", "--pkgs", "base-files")
	if code != 0 && (strings.Contains(stderr, "dial") || strings.Contains(stderr, "timeout") || strings.Contains(stderr, "no such host")) {
		msg := fmt.Sprintf("SKIPPING %s: its mirror did not answer: %s", distro, stderr)
		fmt.Fprintf(os.Stderr, "\n!!!!! %s\n\n", msg)
		t.Skip(msg)
	}
	if code != 0 {
		t.Fatalf("resolve: exit %d: %s%s", code, out, stderr)
	}
}
