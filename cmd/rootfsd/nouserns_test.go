package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rootfsd/rootfsd/cmd/rootfsd/engine"
)

// imageDigests are what must agree between builds of one lock.
type imageDigests struct {
	ImageID, Manifest, Archive string
}

// TestBuildWithoutUserNamespaces (issue 5): where user namespaces are
// forbidden (the seccomp filter of seccomp_test.go), an unprivileged user
// still exports an image with --output oci-archive:FILE, from an Alpine and
// a Debian repository, with the manifest digest root gets for the same
// lock, and skopeo and podman (as root, in a private storage) report the
// same; tar:, oci: and docker-archive: work too. --tag, which needs a user namespace, fails saying so and naming the
// exports that need none; so does --tag for a user without subordinate ids.
func TestBuildWithoutUserNamespaces(t *testing.T) {
	needUserTools(t)
	share := sharedDir(t)
	bin := filepath.Join(share, "rootfsd.test")
	copyFile(t, os.Args[0], bin, 0o755)
	suffix := strconv.Itoa(os.Getpid() % 100000)
	withIDs := addUser(t, "rfsd-nu-"+suffix)
	if _, n := subIDRange(t, withIDs); n == 0 {
		t.Fatalf("useradd gave %s no range in /etc/subuid: the filter would not be what stops --tag", withIDs.Username)
	}
	withoutIDs := addUser(t, "rfsd-ns-"+suffix, "-K", "SUB_UID_COUNT=0", "-K", "SUB_GID_COUNT=0")

	apkSrv := httptest.NewServer(http.FileServer(http.Dir(alpineFixtures(t))))
	defer apkSrv.Close()
	debFlags, _, _ := debCacheArchive(t)
	for i, f := range debFlags {
		if i > 0 && debFlags[i-1] == "--keyring" { // where the users can read it
			kr := filepath.Join(share, "archive.gpg")
			copyFile(t, f, kr, 0o644)
			debFlags[i] = kr
		}
	}
	alpineLock := ""
	for _, tc := range []struct {
		name   string
		global []string
		lock   []string
	}{
		{"alpine", nil, []string{"--distro", "alpine:3.19", "--repository", apkSrv.URL + "/v3.19.1-iso/apks", "--pkgs", "busybox"}},
		{"debian", debFlags, []string{"--distro", "debian:12", "--variant", "custom", "--pkgs", "hello"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lock := filepath.Join(share, tc.name+".lock")
			if _, stderr, code := runCLI(t, slices.Concat(tc.global, []string{"--cache-dir", t.TempDir(), "lock"}, tc.lock, []string{"-o", lock})...); code != 0 {
				t.Fatalf("lock: %s", stderr)
			}
			if err := os.Chmod(lock, 0o644); err != nil {
				t.Fatal(err)
			}
			if tc.name == "alpine" {
				alpineLock = lock
			}
			build := []string{"--format", "json", "build", "--lock", lock, "--output"}

			rootTar := filepath.Join(t.TempDir(), "root.tar")
			stdout, stderr, code := runCLI(t, slices.Concat(tc.global, []string{"--cache-dir", t.TempDir()}, build, []string{"oci-archive:" + rootTar})...)
			if code != 0 {
				t.Fatalf("build as root: %s", stderr)
			}
			want := digestsOf(t, stdout, rootTar)

			userTar := filepath.Join(withIDs.HomeDir, tc.name+".tar")
			stdout, stderr, code = asUser(t, withIDs, true, bin, slices.Concat(tc.global, build, []string{"oci-archive:" + userTar})...)
			if code != 0 {
				t.Fatalf("build --output oci-archive as %s without user namespaces: exit %d\n%s", withIDs.Username, code, stderr)
			}
			got := digestsOf(t, stdout, userTar)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("oci-archive built without user namespaces differs from root's (-root +user):\n%s", diff)
			}
			t.Logf("%s without user namespaces: manifest %s, image %s", withIDs.Username, got.Manifest, got.ImageID)
			checkWithSkopeo(t, userTar, want)
			checkWithPodman(t, userTar, want)

			// The other exports need no user namespace either.
			home := withIDs.HomeDir
			outs := []string{"tar:" + filepath.Join(home, tc.name+"-rootfs.tar"), "oci:" + filepath.Join(home, tc.name+"-oci"),
				"docker-archive:" + filepath.Join(home, tc.name+"-docker.tar")}
			args := slices.Concat(tc.global, []string{"build", "--lock", lock})
			for _, o := range outs {
				args = append(args, "--output", o)
			}
			stdout, stderr, code = asUser(t, withIDs, true, bin, args...)
			if code != 0 {
				t.Fatalf("build %v as %s without user namespaces: exit %d\n%s", outs, withIDs.Username, code, stderr)
			}
			for _, o := range outs {
				if !strings.Contains(stdout, "wrote "+o+"\n") {
					t.Errorf("%s not written:\n%s", o, stdout)
				}
			}
			if _, err := os.Stat(filepath.Join(home, tc.name+"-oci", "index.json")); err != nil {
				t.Errorf("oci layout: %v", err)
			}
		})
	}
	if alpineLock == "" {
		t.Fatal("no lock to try --tag with")
	}

	// --tag under the filter: the user has subordinate ids, but no user
	// namespace can be made.
	_, stderr, code := asUser(t, withIDs, true, bin, "build", "--lock", alpineLock, "--tag", "localhost/nouserns:test")
	if missing := lacking(stderr, "user namespaces are not available", "operation not permitted", "--output oci-archive:FILE", "oci:DIR", "docker-archive:FILE"); code != 1 || missing != nil {
		t.Errorf("--tag without user namespaces: exit %d, want 1 and an error with %q:\n%s", code, missing, stderr)
	}
	t.Logf("--tag without user namespaces: %s", strings.TrimSpace(stderr))

	// --tag as a user without subordinate ids (user namespaces allowed).
	_, stderr, code = asUser(t, withoutIDs, false, bin, "build", "--lock", alpineLock, "--tag", "localhost/nouserns:test")
	if missing := lacking(stderr, "/etc/subuid has no range for "+withoutIDs.Username, "usermod --add-subuids", "--output oci-archive:FILE"); code != 1 || missing != nil {
		t.Errorf("--tag without subordinate ids: exit %d, want 1 and an error with %q:\n%s", code, missing, stderr)
	}
	t.Logf("--tag without subordinate ids: %s", strings.TrimSpace(stderr))
	// The range it suggests is nobody's yet: not the other user's.
	var from, to uint64
	if i := strings.Index(stderr, "--add-subuids "); i < 0 {
		t.Error("no subordinate uid range suggested")
	} else if _, err := fmt.Sscanf(stderr[i:], "--add-subuids %d-%d", &from, &to); err != nil {
		t.Errorf("suggested range: %v", err)
	} else if start, count := subIDRange(t, withIDs); from < start+count && to >= start {
		t.Errorf("suggested range %d-%d overlaps %s's %d:%d", from, to, withIDs.Username, start, count)
	}
	// Following the advice makes --tag work (userdel removes the ranges).
	_, quoted, _ := strings.Cut(stderr, "`usermod ")
	cmdline, _, ok := strings.Cut(quoted, "`")
	if !ok || !strings.HasPrefix(cmdline, fmt.Sprintf("--add-subuids %d-%d --add-subgids ", from, to)) ||
		!strings.HasSuffix(cmdline, " "+withoutIDs.Username) {
		t.Fatalf("no usermod command for %s in the error:\n%s", withoutIDs.Username, stderr)
	}
	if _, err := exec.LookPath("newuidmap"); err != nil {
		t.Skip("SKIP: newuidmap is not installed (uidmap): --tag after usermod was not tried")
	}
	advice := append([]string{"usermod"}, strings.Fields(cmdline)...)
	if out, err := exec.Command(advice[0], advice[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(advice, " "), err, out)
	}
	stdout, stderr, code := asUser(t, withoutIDs, false, bin, "build", "--lock", alpineLock, "--tag", "localhost/nouserns:test")
	if code != 0 || !strings.Contains(stdout, "wrote containers-storage:localhost/nouserns:test") {
		t.Errorf("--tag after %s: exit %d\n%s%s", strings.Join(advice, " "), code, stdout, stderr)
	}
}

// lacking returns the words text does not contain.
func lacking(text string, words ...string) []string {
	var missing []string
	for _, w := range words {
		if !strings.Contains(text, w) {
			missing = append(missing, w)
		}
	}
	return missing
}

// subIDRange returns u's first range in /etc/subuid; count 0 for none.
func subIDRange(t *testing.T, u *user.User) (start, count uint64) {
	data, err := os.ReadFile("/etc/subuid")
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, u.Username+":"); ok {
			if _, err := fmt.Sscanf(rest, "%d:%d", &start, &count); err != nil {
				t.Fatalf("/etc/subuid: %q: %v", line, err)
			}
			return start, count
		}
	}
	return 0, 0
}

// digestsOf reads a `--format json` build result and the archive it wrote.
func digestsOf(t *testing.T, stdout, archive string) imageDigests {
	t.Helper()
	var res engine.BuildResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("build result: %v\n%s", err, stdout)
	}
	return imageDigests{ImageID: strings.TrimPrefix(res.ImageID, "sha256:"), Manifest: res.ManifestDigest, Archive: sha256File(t, archive)}
}

// checkWithSkopeo compares the manifest digest skopeo reads from archive.
func checkWithSkopeo(t *testing.T, archive string, want imageDigests) {
	t.Helper()
	skopeo, err := exec.LookPath("skopeo")
	if err != nil {
		t.Log("SKIP: skopeo is not installed: the archive's digest was not read with skopeo")
		return
	}
	out, err := exec.Command(skopeo, "inspect", "--format", "{{.Digest}}", "oci-archive:"+archive).CombinedOutput()
	if got := strings.TrimSpace(string(out)); err != nil || got != want.Manifest {
		t.Errorf("skopeo inspect: %v: manifest %s, want %s", err, got, want.Manifest)
	}
}

// checkWithPodman loads archive as root into a private storage and compares
// the image ID and manifest digest podman lists.
func checkWithPodman(t *testing.T, archive string, want imageDigests) {
	t.Helper()
	podman, err := exec.LookPath("podman")
	if err != nil {
		t.Log("SKIP: podman is not installed: the archive was not loaded with podman")
		return
	}
	dir, err := os.MkdirTemp("", "rfsd-pm-") // podman wants a runroot of at most 50 characters
	if err != nil {
		t.Fatal(err)
	}
	graph, run := filepath.Join(dir, "graph"), filepath.Join(dir, "run")
	t.Cleanup(func() {
		unmountBelow(t, graph, run)
		os.RemoveAll(dir)
	})
	base := []string{"--root", graph, "--runroot", run, "--storage-driver", "vfs", "--events-backend", "none"}
	if out, err := exec.Command(podman, append(base, "load", "-q", "-i", archive)...).CombinedOutput(); err != nil {
		t.Fatalf("podman load: %v\n%s", err, out)
	}
	out, err := exec.Command(podman, append(base, "images", "--no-trunc", "--format", "{{.ID}} {{.Digest}}")...).CombinedOutput()
	if err != nil {
		t.Fatalf("podman images: %v\n%s", err, out)
	}
	wantLine := "sha256:" + want.ImageID + " " + want.Manifest
	if got := strings.TrimSpace(string(out)); got != wantLine {
		t.Errorf("podman images after load: %q, want %q", got, wantLine)
	}
}
