package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/rootfsd/rootfsd/repo"
)

var (
	walkBinOnce sync.Once
	walkBin     string
	walkBinErr  error
)

// rootfsdBinary is the rootfsd binary the walk runs: $ROOTFSD_BIN, or one
// built once for the test run.
func rootfsdBinary(t *testing.T) string {
	t.Helper()
	if b := os.Getenv("ROOTFSD_BIN"); b != "" {
		return b
	}
	if testing.Short() {
		t.Skip("builds the rootfsd binary")
	}
	walkBinOnce.Do(func() {
		// One fixed place, replaced atomically on every run: test runs
		// leave one binary behind, not one each.
		dir := filepath.Join(os.TempDir(), fmt.Sprintf("rootfsd-walk-%d", os.Getuid()))
		if err := os.MkdirAll(dir, 0o700); err != nil {
			walkBinErr = err
			return
		}
		walkBin = filepath.Join(dir, "rootfsd")
		tmp := fmt.Sprintf("%s.%d", walkBin, os.Getpid())
		cmd := exec.Command("go", "build", "-tags", "containers_image_openpgp exclude_graphdriver_btrfs", "-o", tmp, ".")
		if out, err := cmd.CombinedOutput(); err != nil {
			walkBinErr = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		walkBinErr = os.Rename(tmp, walkBin)
	})
	if walkBinErr != nil {
		t.Fatal(walkBinErr)
	}
	return walkBin
}

// walker runs the binary as a new user would: in an empty directory, with
// a home of its own, no daemon, and no ROOTFSD_* settings from outside.
type walker struct {
	t    *testing.T
	bin  string
	dir  string
	env  []string
	glob []string // flags pointing at the fixture archive
}

func newWalker(t *testing.T) *walker {
	home := t.TempDir()
	w := &walker{t: t, bin: rootfsdBinary(t), dir: t.TempDir()}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "ROOTFSD_") || strings.HasPrefix(k, "XDG_") || k == "HOME" || k == "SOURCE_DATE_EPOCH" {
			continue
		}
		w.env = append(w.env, kv)
	}
	w.env = append(w.env, "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"), "XDG_CACHE_HOME="+filepath.Join(home, ".cache"),
		"XDG_RUNTIME_DIR="+filepath.Join(home, "run"), "ROOTFSD_DAEMON=never")
	return w
}

type result struct {
	stdout, stderr string
	code           int
}

func (w *walker) run(args ...string) result {
	w.t.Helper()
	cmd := exec.Command(w.bin, args...)
	cmd.Dir, cmd.Env = w.dir, w.env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		w.t.Fatalf("run %v: %v", args, err)
	}
	return result{out.String(), errb.String(), code}
}

// ok runs and wants exit 0 and every string in the output.
func (w *walker) ok(args []string, want ...string) result {
	w.t.Helper()
	r := w.run(args...)
	if r.code != 0 {
		w.t.Fatalf("rootfsd %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	w.contains(args, r, want...)
	return r
}

func (w *walker) fails(code int, args []string, want ...string) result {
	w.t.Helper()
	r := w.run(args...)
	if r.code != code {
		w.t.Fatalf("rootfsd %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, code, r.stdout, r.stderr)
	}
	w.contains(args, r, want...)
	return r
}

func (w *walker) contains(args []string, r result, want ...string) {
	w.t.Helper()
	all := r.stdout + r.stderr
	for _, s := range want {
		if !strings.Contains(all, s) {
			w.t.Errorf("rootfsd %s: output lacks %q\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), s, r.stdout, r.stderr)
		}
	}
}

func (w *walker) path(p string) string { return filepath.Join(w.dir, p) }

func (w *walker) write(p, text string) {
	w.t.Helper()
	if err := os.WriteFile(w.path(p), []byte(text), 0o644); err != nil {
		w.t.Fatal(err)
	}
}

func (w *walker) read(p string) string {
	w.t.Helper()
	b, err := os.ReadFile(w.path(p))
	if err != nil {
		w.t.Fatal(err)
	}
	return string(b)
}

func args(a ...string) []string { return a }

// TestWalkHelp: the first thing a new user does.
func TestWalkHelp(t *testing.T) {
	w := newWalker(t)
	r := w.ok(args("--help"), "Exit codes:", "init", "check", "diff", "outdated", "config", "completion")
	_ = r
	for _, cmd := range []string{"init", "lock", "build", "outdated", "diff", "config", "check", "man", "resolve"} {
		r := w.ok(args(cmd, "--help"), "Examples:", "rootfsd "+cmd, "Usage:")
		if cmd != "resolve" && !regexp.MustCompile(`(?m)^  rootfsd `+cmd+` .+`).MatchString(r.stdout) {
			t.Errorf("%s --help: no example invocation:\n%s", cmd, r.stdout)
		}
	}
	w.ok(args("completion", "bash"), "__start_rootfsd")
	w.ok(args("man", "--dir", "man"), "wrote man pages")
	for _, page := range []string{"rootfsd.1", "rootfsd-build.1", "rootfsd-check.1", "rootfsd-init.1"} {
		if text := w.read("man/" + page); !strings.Contains(text, ".TH \"ROOTFSD\"") || !strings.Contains(text, "EXAMPLE") {
			t.Errorf("man page %s:\n%.400s", page, text)
		}
	}
	w.fails(exitUsage, args("bild"), "unknown command")
}

// TestWalkSpecLockOutdatedDiff: init, a typo, lock, outdated, diff,
// against the signed fixture archive.
func TestWalkSpecLockOutdatedDiff(t *testing.T) {
	w := newWalker(t)
	g := fixtureArchive(t)
	w.ok(args("init", "--distro", "debian:12", "--pkgs", "curl=7.88"), "wrote rootfs.yaml", "next: rootfsd lock -f rootfs.yaml")
	spec := w.read("rootfs.yaml")
	if !strings.Contains(spec, "distro: debian:12") || !strings.Contains(spec, "  - curl=7.88\n") {
		t.Fatalf("init wrote:\n%s", spec)
	}
	w.fails(exitUsage, args("init", "--distro", "debian:12"), "rootfs.yaml exists", "--force")

	// A typo names the line and the closest key.
	typo := strings.Replace(spec, "packages:", "pakages:", 1)
	w.write("rootfs.yaml", typo)
	line := 1 + strings.Count(typo[:strings.Index(typo, "pakages:")], "\n")
	w.fails(exitUsage, append(g, "lock", "-f", "rootfs.yaml"), fmt.Sprintf(`rootfs.yaml:%d: unknown key "pakages"; did you mean "packages"?`, line))

	w.write("rootfs.yaml", strings.Replace(spec, "variant: base", "variant: custom", 1))
	w.ok(append(g, "lock", "-f", "rootfs.yaml"), "wrote rootfs.lock", "3 packages")
	l, err := repo.ReadLock(w.path("rootfs.lock"))
	if err != nil || l.Find("curl") == nil || l.Find("curl").Version != "7.88" {
		t.Fatalf("rootfs.lock: %v %+v", err, l)
	}

	// The pin holds curl back from the security pocket's 7.88-sec1.
	r := w.ok(append(g, "outdated", "-f", "rootfs.yaml"), "curl", "7.88-sec1", "bookworm-security", "security", "pinned", "1 outdated (1 security)")
	if !strings.HasPrefix(r.stdout, "PACKAGE") {
		t.Errorf("outdated output:\n%s", r.stdout)
	}
	w.fails(exitFailure, append(g, "outdated", "--lock", "rootfs.lock", "--exit-code", "--quiet"), "1 packages are outdated")
	r = w.ok(append(g, "--format", "json", "outdated", "--lock", "rootfs.lock"))
	var reports []OutdatedReport
	if err := json.Unmarshal([]byte(r.stdout), &reports); err != nil || len(reports) != 1 || len(reports[0].Outdated) != 1 || !reports[0].Outdated[0].Security {
		t.Errorf("outdated --format json: %v\n%s", err, r.stdout)
	}

	// A second lock without the pin; diff shows the upgrade.
	w.ok(append(g, "lock", "--distro", "debian:12", "--pkgs", "curl", "--variant", "custom", "-o", "new.lock"))
	r = w.ok(args("diff", "rootfs.lock", "new.lock"), "request.packages: curl=7.88 -> curl", "curl", "upgraded", "7.88-sec1", "packages: 1 upgraded")
	w.fails(exitFailure, args("diff", "--exit-code", "rootfs.lock", "new.lock"), "rootfs.lock and new.lock differ")
	w.ok(args("diff", "rootfs.lock", "rootfs.lock"), "do not differ")
	r = w.ok(args("diff", "--format", "json", "rootfs.lock", "new.lock"))
	if !strings.Contains(r.stdout, `"kind": "upgraded"`) {
		t.Errorf("diff json:\n%s", r.stdout)
	}

	// build -f refuses a lock that no longer matches the spec.
	w.write("rootfs.yaml", strings.Replace(strings.Replace(spec, "variant: base", "variant: custom", 1), "  - curl=7.88\n", "  - curl\n", 1))
	w.fails(exitUsage, append(g, "build", "-f", "rootfs.yaml"), "rootfs.lock is out of date with rootfs.yaml: packages: curl=7.88 -> curl", "--update")
}

// TestWalkConfig: layered configuration with provenance, and a typo.
func TestWalkConfig(t *testing.T) {
	w := newWalker(t)
	cfgDir := filepath.Join(strings.TrimPrefix(w.env[len(w.env)-4], "XDG_CONFIG_HOME="), "rootfsd")
	if err := os.MkdirAll(cfgDir, 0o755); err != nil {
		t.Fatal(err)
	}
	cfgFile := filepath.Join(cfgDir, "config.toml")
	if err := os.WriteFile(cfgFile, []byte("mirror = \"http://127.0.0.1:9/debian\"\n\n[build]\ntrim = \"minimal\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	w.env = append(w.env, "ROOTFSD_TRIM=none")
	r := w.ok(args("config"), "mirror", "http://127.0.0.1:9/debian", "file "+cfgFile+":1", "build.trim", "none", "env ROOTFSD_TRIM (overrides "+cfgFile+":4)", "config files: "+cfgFile)
	r = w.ok(args("--mirror", "http://127.0.0.1:8/flag", "config", "--distro", "debian:12", "--format", "json"))
	var out struct {
		Values []struct {
			Key, Source, Origin string
			Value               any
		}
		Mirrors struct{ Mirror, From string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("config json: %v\n%s", err, r.stdout)
	}
	if out.Values[1].Key != "mirror" || out.Values[1].Source != "flag" || out.Values[1].Origin != "--mirror" || out.Mirrors.Mirror != "http://127.0.0.1:8/flag" || out.Mirrors.From != "configured" {
		t.Errorf("config json: %+v", out)
	}
	w.ok(args("config", "--keys"), "ROOTFSD_SECURITY_MIRROR", "--security-mirror", "build.with-recommends")
	if err := os.WriteFile(cfgFile, []byte("[build]\ndistro = \"debian:12\"\nvarient = \"custom\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	w.fails(exitUsage, args("config"), cfgFile+`:3: unknown key "build.varient"; did you mean "build.variant"?`)
}

// TestWalkBuildAndCheck: an Alpine image built from a spec against the
// fixture repository of real packages, checked, broken, and checked again.
func TestWalkBuildAndCheck(t *testing.T) {
	w := newWalker(t)
	srv := httptest.NewServer(http.FileServer(http.Dir(alpineFixtures(t))))
	defer srv.Close()
	cache := []string{"--cache-dir", filepath.Join(w.dir, "cache")}
	w.write("rootfs.yaml", fmt.Sprintf(`distro: alpine:3.19
variant: custom
sources:
  - apk: %s/v3.19.1-iso/apks
packages: [alpine-baselayout, busybox, apk-tools]
entrypoint: [/sbin/apk]
outputs: ["tar:rootfs-{arch}.tar", "dir:rootfs-{arch}"]
`, srv.URL))
	w.ok(append(cache, "lock", "-f", "rootfs.yaml"), "wrote rootfs.lock")
	r := w.ok(append(cache, "build", "-f", "rootfs.yaml"), "built alpine:3.19 x86_64", "wrote tar:rootfs-amd64.tar", "wrote dir:rootfs-amd64")
	if strings.Contains(r.stderr, "check:") {
		t.Errorf("the end-of-build check found problems in a complete tree:\n%s", r.stderr)
	}
	w.ok(args("check", "rootfs-amd64.tar"), "rootfs-amd64.tar: no problems found")

	// The lock did not change, so a second build comes from the cache.
	w.ok(append(cache, "build", "-f", "rootfs.yaml", "--output", "tar:again.tar"), "layer from cache")
	w.ok(args("diff", "rootfs-amd64.tar", "again.tar"), "do not differ")

	// Remove libssl: check names the programs, the library, the packages
	// they came from and the package that ships it.
	lib := w.path("rootfs-amd64/lib/libssl.so.3")
	if _, err := os.Lstat(lib); err != nil {
		lib = w.path("rootfs-amd64/usr/lib/libssl.so.3")
	}
	if err := os.Remove(lib); err != nil {
		t.Fatal(err)
	}
	r = w.fails(exitFailure, args("check", "rootfs-amd64", "--entrypoint", "/sbin/apk", "--user", "app"),
		"error: libssl.so.3, needed by /lib/libapk.so.2.14.0, /usr/bin/ssl_client (from apk-tools, ssl_client), is not in the rootfs; install the package that ships it (probably libssl3 or so:libssl.so.3)",
		`error: the image user "app" has no entry in /etc/passwd`, "check found 2 errors")
	r = w.fails(exitFailure, args("check", "--format", "json", "rootfs-amd64"))
	var fs []struct{ Kind, Missing string }
	if err := json.Unmarshal([]byte(r.stdout), &fs); err != nil || len(fs) != 1 || fs[0].Kind != "missing-library" || fs[0].Missing != "libssl.so.3" {
		t.Errorf("check json: %v\n%s", err, r.stdout)
	}
	r = w.ok(args("diff", "rootfs-amd64.tar", "rootfs-amd64"), "- /lib/libssl.so.3")

	// --add puts a local file into the image with its mode.
	w.write("app", "#!/bin/sh\n")
	w.ok(append(cache, "build", "--distro", "alpine:3.19", "--repository", srv.URL+"/v3.19.1-iso/apks", "--pkgs", "busybox",
		"--add", "app:/usr/local/bin/app:0755", "--output", "tar:added.tar"))
	entries := readTar(t, w.path("added.tar"))
	if e, ok := entries["usr/local/bin/app"]; !ok || e.hdr.Mode&0o777 != 0o755 || string(e.data) != "#!/bin/sh\n" {
		t.Errorf("--add: usr/local/bin/app not in the image as given (%v)", ok)
	}
}
