package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSharedCacheFourProcesses is issue 8's shared-directory case: four
// rootfsd processes build overlapping package sets on one cache directory
// (as CI runners on one host or one network volume do); one is killed with
// SIGKILL while it writes. The other three succeed and the cache passes
// `rootfsd cache verify`.
func TestSharedCacheFourProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	files := http.FileServer(http.Dir(alpineFixtures(t)))
	mirror := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, ".apk") {
			time.Sleep(30 * time.Millisecond) // kills land in downloads and writes
		}
		files.ServeHTTP(w, r)
	}))
	defer mirror.Close()
	dir := t.TempDir()
	cache := filepath.Join(dir, "cache")
	sets := []string{"busybox,apk-tools,libc-utils", "busybox", "busybox,zlib", "apk-tools,busybox"}
	var cmds []*exec.Cmd
	var errs []*bytes.Buffer
	for i, set := range sets {
		cmd := exec.Command(os.Args[0], "--cache-dir", cache, "build", "--distro", "alpine:3.19",
			"--repository", mirror.URL+"/v3.19.1-iso/apks", "--pkgs", set,
			"--output", "tar:"+filepath.Join(dir, string(rune('a'+i))+".tar"))
		cmd.Env = append(os.Environ(), "ROOTFSD_TEST_MAIN=1", "ROOTFSD_DAEMON=never")
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		var eb bytes.Buffer
		cmd.Stderr = &eb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds, errs = append(cmds, cmd), append(errs, &eb)
	}
	time.Sleep(250 * time.Millisecond)
	_ = syscall.Kill(-cmds[0].Process.Pid, syscall.SIGKILL)
	killed := cmds[0].Wait()
	for i, cmd := range cmds[1:] {
		if err := cmd.Wait(); err != nil {
			t.Errorf("build %d (%s): %v\n%s", i+1, sets[i+1], err, errs[i+1])
		}
	}
	t.Logf("killed build: %v", killed)
	out, stderr, code := runCLI(t, "--cache-dir", cache, "cache", "verify")
	if code != 0 {
		t.Fatalf("cache verify after kill -9: exit %d\n%s%s", code, out, stderr)
	}
	// The killed build's set builds now, from what the others left.
	if _, stderr, code := runCLI(t, "--cache-dir", cache, "build", "--distro", "alpine:3.19",
		"--repository", mirror.URL+"/v3.19.1-iso/apks", "--pkgs", sets[0], "--output", "tar:"+filepath.Join(dir, "again.tar")); code != 0 {
		t.Fatalf("build after the kill: exit %d: %s", code, stderr)
	}
}
