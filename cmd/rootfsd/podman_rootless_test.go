package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestRootlessTagListedByPodman (issue 5, no network): a fresh
// unprivileged user's build --tag lands in the store and graph driver that
// user's podman uses, so podman lists and runs the image, before podman
// has ever run and after; the store holds the state of that one driver
// (an overlay store beside podman's vfs one used to hide the image, and
// make the next build fail on "several valid graphdrivers").
func TestRootlessTagListedByPodman(t *testing.T) {
	ru, share := newRootlessUser(t, "rfsd-pt-", "runc")
	srv := httptest.NewServer(http.FileServer(http.Dir(alpineFixtures(t))))
	t.Cleanup(srv.Close)
	cache := filepath.Join(share, "cache")
	ru.mkdir(t, cache)
	build := func(tag string) string {
		return buildResult(t, ru.rootfsd(t, "--cache-dir", cache, "--format", "json", "build", "--distro", "alpine:3.19",
			"--repository", srv.URL+"/v3.19.1-iso/apks", "--pkgs", "alpine-baselayout,busybox,alpine-release", "--tag", tag)).ImageID
	}
	listed := func(want ...string) {
		t.Helper()
		lines := strings.Split(ru.podman(t, "images", "--no-trunc", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"), "\n")
		for _, w := range want {
			if !slices.Contains(lines, w) {
				t.Errorf("podman images as %s lacks %q:\n%s", ru.u.Username, w, strings.Join(lines, "\n"))
			}
		}
	}

	first := build("localhost/rootfsd-rootless:first") // podman has not run
	listed("localhost/rootfsd-rootless:first sha256:" + first)
	out := ru.podman(t, "run", "--rm", "--runtime", "runc", "--network", "none", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024",
		"localhost/rootfsd-rootless:first", "/bin/busybox", "cat", "/etc/alpine-release")
	if strings.TrimSpace(out) != "3.19.1" {
		t.Errorf("/etc/alpine-release in the image run by rootless podman: %q", out)
	}

	second := build("localhost/rootfsd-rootless:second") // podman has run
	if second != first {
		t.Errorf("the second build is image %s, the first %s", second, first)
	}
	listed("localhost/rootfsd-rootless:first sha256:"+first, "localhost/rootfsd-rootless:second sha256:"+first)

	driver := strings.TrimSpace(ru.podman(t, "info", "--format", "{{.Store.GraphDriverName}}"))
	graph := filepath.Join(ru.u.HomeDir, ".local", "share", "containers", "storage")
	for _, d := range []string{"overlay", "vfs"} {
		_, err := os.Stat(filepath.Join(graph, d+"-layers"))
		if has := err == nil; has != (d == driver) {
			t.Errorf("%s-layers in %s: %v; podman's driver is %s", d, graph, has, driver)
		}
	}
	t.Logf("rootless store of %s: driver %s, image %s", ru.u.Username, driver, first)
}
