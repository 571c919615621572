//go:build mirror

package main

// The unprivileged half of the podman end-to-end test (issue 5): a
// throw-away user with subordinate ids builds Ubuntu and Debian images
// into its own containers-storage, and its rootless podman and skopeo list,
// run and inspect them, without a login session.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestMirrorUnprivilegedPodman builds ubuntu:24.04 and debian:12 with
// ca-certificates as a fresh unprivileged user (rootfsd re-executes itself
// in a user namespace for --tag); that user's podman lists the images and
// runs `openssl version` in them, its skopeo shows the config, and the
// image built from root's lock has the ID root gets for that lock.
func TestMirrorUnprivilegedPodman(t *testing.T) {
	start := time.Now()
	ru, share := newRootlessUser(t, "rfsd-pd-", "skopeo", "runc")
	u := ru.u
	cache := filepath.Join(share, "cache") // the user's, for both distros
	ru.mkdir(t, cache)
	rootCache := t.TempDir()
	for _, tc := range []struct{ distro, short string }{{"ubuntu:24.04", "ubuntu"}, {"debian:12", "debian"}} {
		t.Run(tc.short, func(t *testing.T) {
			skipWithoutMirror(t, tc.distro)
			label := []string{"--label", "org.example.e2e=" + tc.short}
			// Root locks and builds first; the user reads the lock.
			lock := filepath.Join(share, tc.short+".lock")
			if _, stderr, code := runCLI(t, "--cache-dir", rootCache, "lock", "--distro", tc.distro, "--pkgs", "ca-certificates", "-o", lock); code != 0 {
				t.Fatalf("lock as root: exit %d: %s", code, stderr)
			}
			if err := os.Chmod(lock, 0o644); err != nil {
				t.Fatal(err)
			}
			archive := filepath.Join(t.TempDir(), "root.tar")
			stdout, stderr, code := runCLI(t, slices.Concat([]string{"--cache-dir", rootCache, "--format", "json", "build", "--lock", lock}, label,
				[]string{"--output", "oci-archive:" + archive})...)
			if code != 0 {
				t.Fatalf("build --lock as root: exit %d: %s", code, stderr)
			}
			rootID := buildResult(t, stdout).ImageID

			image := "localhost/rootfsd-e2e:" + tc.short
			t0 := time.Now()
			stdout = ru.rootfsd(t, slices.Concat([]string{"--cache-dir", cache, "--format", "json", "build", "--distro", tc.distro,
				"--pkgs", "ca-certificates", "--tag", image}, label)...)
			built := buildResult(t, stdout)
			t.Logf("%s: build --distro %s --tag %s as %s took %v: image %s", tc.short, tc.distro, image, u.Username, time.Since(t0).Round(time.Millisecond), built.ImageID)

			lockImage := image + "-lock"
			t0 = time.Now()
			stdout = ru.rootfsd(t, slices.Concat([]string{"--cache-dir", cache, "--format", "json", "build", "--lock", lock, "--tag", lockImage}, label)...)
			fromLock := buildResult(t, stdout)
			t.Logf("%s: build --lock --tag %s as %s took %v", tc.short, lockImage, u.Username, time.Since(t0).Round(time.Millisecond))
			if fromLock.ImageID != rootID {
				t.Errorf("image from root's lock: %s as %s, %s as root", fromLock.ImageID, u.Username, rootID)
			}

			out := ru.podman(t, "images", "--no-trunc", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}")
			for _, want := range []string{image + " sha256:" + built.ImageID, lockImage + " sha256:" + rootID} {
				if !slices.Contains(strings.Split(out, "\n"), want) {
					t.Errorf("podman images as %s lacks %q:\n%s", u.Username, want, out)
				}
			}
			t0 = time.Now()
			out = ru.podman(t, "run", "--rm", "--runtime", "runc", "--network", "none",
				"--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", image, "openssl", "version")
			if !strings.HasPrefix(out, "OpenSSL 3") {
				t.Errorf("openssl version in %s as %s: %q", image, u.Username, out)
			}
			t.Logf("%s: rootless podman run took %v: %s", tc.short, time.Since(t0).Round(time.Millisecond), strings.TrimSpace(out))

			var info struct {
				Labels       map[string]string
				Architecture string
				Os           string
				Env          []string
			}
			if err := json.Unmarshal([]byte(ru.run(t, "skopeo", "inspect", "containers-storage:"+image)), &info); err != nil {
				t.Fatalf("skopeo inspect containers-storage:%s as %s: %v", image, u.Username, err)
			}
			if info.Labels["org.example.e2e"] != tc.short || info.Architecture != runtime.GOARCH || info.Os != "linux" ||
				!slices.ContainsFunc(info.Env, func(e string) bool { return strings.HasPrefix(e, "PATH=/") }) {
				t.Errorf("skopeo inspect containers-storage:%s as %s: %+v", image, u.Username, info)
			}
		})
	}
	t.Logf("the whole test took %v", time.Since(start).Round(time.Millisecond))
}
