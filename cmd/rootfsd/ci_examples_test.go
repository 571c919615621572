package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/rootfsd/rootfsd/store/remote/registrytest"
)

// ciRunner runs the jobs of contrib/ci's examples the way a CI runner
// would: each job in a fresh workspace holding the committed lock, with the
// CI system's cache (keyed as the example keys it) kept between jobs, the
// registry cache on a docker-registry on 127.0.0.1, and rootfsd and a
// stand-in for `go install` on PATH. What the examples leave to the runner
// is configured as a user would: ROOTFSD_PLAIN_HTTP for the loopback
// registry (a real registry speaks TLS).
type ciRunner struct {
	t        *testing.T
	bin      string // directory with rootfsd and go
	lock     []byte // the committed rootfs.lock
	ciCache  string // the CI system's cache
	registry string // host:port
	jobs     int
}

func newCIRunner(t *testing.T, lock []byte, registry string) *ciRunner {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	writeScript(t, filepath.Join(bin, "rootfsd"), fmt.Sprintf("#!/bin/sh\nROOTFSD_TEST_MAIN=1 exec %q \"$@\"\n", exe))
	// The stand-in for go checks that the example installs rootfsd with
	// the build tags it needs: without them the build fails on machines
	// without gpgme's and btrfs's headers (every CI image).
	gopath := t.TempDir()
	writeScript(t, filepath.Join(bin, "go"), fmt.Sprintf(`#!/bin/sh
case "$1" in
install)
	case "$*" in
	*"-tags containers_image_openpgp,exclude_graphdriver_btrfs "*github.com/rootfsd/rootfsd/cmd/rootfsd@*) exit 0 ;;
	esac
	echo "go $*: rootfsd needs -tags containers_image_openpgp,exclude_graphdriver_btrfs" >&2; exit 1 ;;
env) echo %q ;;
*) echo "go $*: not expected in the example" >&2; exit 1 ;;
esac
`, gopath))
	return &ciRunner{t: t, bin: bin, lock: lock, ciCache: t.TempDir(), registry: registry}
}

func writeScript(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o755); err != nil {
		t.Fatal(err)
	}
}

// workspace is a fresh checkout: the lock and nothing else.
func (r *ciRunner) workspace() string {
	r.jobs++
	ws := filepath.Join(r.t.TempDir(), fmt.Sprintf("job%d", r.jobs))
	if err := os.MkdirAll(ws, 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ws, "rootfs.lock"), r.lock, 0o644); err != nil {
		r.t.Fatal(err)
	}
	return ws
}

// shell runs script with bash -e in dir with env (KEY=VALUE) added.
func (r *ciRunner) shell(dir, script string, env []string) {
	r.t.Helper()
	cmd := exec.Command("bash", "-e", "-c", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+r.bin+":"+os.Getenv("PATH"), "ROOTFSD_DAEMON=never", "ROOTFSD_PLAIN_HTTP=true", "HOME="+dir)
	cmd.Env = append(cmd.Env, env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		r.t.Fatalf("step failed: %v\n--- script\n%s\n--- output\n%s", err, script, out)
	}
}

// ciCachePath is where the CI system keeps the cache entry key.
func (r *ciRunner) ciCachePath(key string) string {
	return filepath.Join(r.ciCache, strings.NewReplacer("/", "_", " ", "_").Replace(key))
}

func ciCopy(t *testing.T, from, to string) bool {
	t.Helper()
	data, err := os.ReadFile(from)
	if os.IsNotExist(err) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return true
}

func readYAML(t *testing.T, path string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return doc
}

// githubExpr substitutes ${{ ... }} expressions from vals; an expression
// it does not know fails the test, so the example cannot use one that
// this runner silently gets wrong.
func githubExpr(t *testing.T, s string, vals map[string]string) string {
	t.Helper()
	re := regexp.MustCompile(`\$\{\{\s*(.*?)\s*\}\}`)
	return re.ReplaceAllStringFunc(s, func(m string) string {
		e := re.FindStringSubmatch(m)[1]
		v, ok := vals[e]
		if !ok {
			t.Fatalf("expression %q: unknown to the test runner", e)
		}
		return v
	})
}

// runGitHubJob runs a job of the GitHub Actions example and returns the
// workspace.
func (r *ciRunner) runGitHubJob(doc map[string]any, job, ref string) string {
	t := r.t
	t.Helper()
	ws := r.workspace()
	runnerTemp := t.TempDir()
	githubEnv := filepath.Join(runnerTemp, "github_env")
	lockSum := sha256File(t, filepath.Join(ws, "rootfs.lock"))
	vals := map[string]string{
		"vars.ROOTFSD_MIRROR":      "",
		"vars.CACHE_REGISTRY":      r.registry,
		"github.workspace":         ws,
		"github.repository":        "octo/app",
		"github.actor":             "octo",
		"secrets.GITHUB_TOKEN":     "token",
		"hashFiles('rootfs.lock')": lockSum,
	}
	var env []string
	for k, v := range doc["env"].(map[string]any) {
		env = append(env, k+"="+githubExpr(t, fmt.Sprint(v), vals))
	}
	env = append(env, "GITHUB_REF="+ref, "GITHUB_ENV="+githubEnv, "RUNNER_TEMP="+runnerTemp, "GITHUB_WORKSPACE="+ws)
	steps := doc["jobs"].(map[string]any)[job].(map[string]any)["steps"].([]any)
	for _, s := range steps {
		step := s.(map[string]any)
		with, _ := step["with"].(map[string]any)
		arg := func(k string) string { return githubExpr(t, fmt.Sprint(with[k]), vals) }
		switch uses, _ := step["uses"].(string); {
		case strings.HasPrefix(uses, "actions/checkout@"), strings.HasPrefix(uses, "actions/setup-go@"):
		case strings.HasPrefix(uses, "actions/cache/restore@"):
			ciCopy(t, r.ciCachePath(arg("key")), filepath.Join(ws, arg("path")))
		case strings.HasPrefix(uses, "actions/cache/save@"):
			if !ciCopy(t, filepath.Join(ws, arg("path")), r.ciCachePath(arg("key"))) {
				t.Fatalf("%s: cache/save: %s was not written", job, arg("path"))
			}
		case strings.HasPrefix(uses, "actions/upload-artifact@"):
			if _, err := os.Stat(filepath.Join(ws, arg("path"))); err != nil {
				t.Fatalf("%s: upload-artifact: %v", job, err)
			}
		case uses != "":
			t.Fatalf("%s: action %s unknown to the test runner", job, uses)
		default:
			// Each step sees what earlier steps wrote to GITHUB_ENV.
			stepEnv := append([]string(nil), env...)
			if data, err := os.ReadFile(githubEnv); err == nil {
				stepEnv = append(stepEnv, strings.Fields(string(data))...)
			}
			r.shell(ws, githubExpr(t, step["run"].(string), vals), stepEnv)
		}
	}
	return ws
}

// runGitLabJob runs a job of the GitLab CI example and returns the
// workspace.
func (r *ciRunner) runGitLabJob(doc map[string]any, job, branch string) string {
	t := r.t
	t.Helper()
	ws := r.workspace()
	env := []string{"CI_PROJECT_DIR=" + ws, "CI_REGISTRY=" + r.registry, "CI_REGISTRY_IMAGE=" + r.registry + "/group/app",
		"CI_REGISTRY_USER=gitlab-ci-token", "CI_REGISTRY_PASSWORD=token", "CI_DEFAULT_BRANCH=main", "CI_COMMIT_BRANCH=" + branch}
	for k, v := range doc["variables"].(map[string]any) {
		env = append(env, k+"="+os.Expand(fmt.Sprint(v), func(k string) string {
			for _, kv := range env {
				if name, val, _ := strings.Cut(kv, "="); name == k {
					return val
				}
			}
			return ""
		}))
	}
	spec := doc[job].(map[string]any)
	var lines []string
	if base, ok := spec["extends"].(string); ok {
		for _, l := range doc[base].(map[string]any)["before_script"].([]any) {
			lines = append(lines, l.(string))
		}
	}
	for _, l := range spec["script"].([]any) {
		lines = append(lines, l.(string))
	}
	var cachePath, cacheKey string
	if c, ok := spec["cache"].(map[string]any); ok {
		cachePath = c["paths"].([]any)[0].(string)
		cacheKey = "gitlab-" + sha256File(t, filepath.Join(ws, c["key"].(map[string]any)["files"].([]any)[0].(string)))
		ciCopy(t, r.ciCachePath(cacheKey), filepath.Join(ws, cachePath))
	}
	r.shell(ws, strings.Join(lines, "\n"), env)
	if cachePath != "" && !ciCopy(t, filepath.Join(ws, cachePath), r.ciCachePath(cacheKey)) {
		t.Fatalf("%s: cache path %s was not written", job, cachePath)
	}
	for _, p := range spec["artifacts"].(map[string]any)["paths"].([]any) {
		if _, err := os.Stat(filepath.Join(ws, p.(string))); err != nil {
			t.Fatalf("%s: artifact: %v", job, err)
		}
	}
	return ws
}

// TestCIExamples runs contrib/ci's GitHub Actions and GitLab CI examples,
// both ways of sharing the cache, each as a first job (empty caches) and a
// second job on a fresh runner: every job produces the same image, and
// the second registry-cache job builds with the mirror gone.
func TestCIExamples(t *testing.T) {
	reg := registrytest.Start(t)
	var packages atomic.Int64 // package files the mirror served
	files := http.FileServer(http.Dir(alpineFixtures(t)))
	mirror := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if strings.HasSuffix(req.URL.Path, ".apk") {
			packages.Add(1)
		}
		files.ServeHTTP(w, req)
	}))
	defer mirror.Close()
	lockFile := filepath.Join(t.TempDir(), "rootfs.lock")
	if _, stderr, code := runCLI(t, "--cache-dir", t.TempDir(), "lock", "--distro", "alpine:3.19",
		"--repository", mirror.URL+"/v3.19.1-iso/apks", "--pkgs", "busybox,apk-tools", "-o", lockFile); code != 0 {
		t.Fatalf("lock: %s", stderr)
	}
	lock, err := os.ReadFile(lockFile)
	if err != nil {
		t.Fatal(err)
	}
	gh := readYAML(t, filepath.Join("..", "..", "contrib", "ci", "github-actions.yml"))
	gl := readYAML(t, filepath.Join("..", "..", "contrib", "ci", "gitlab-ci.yml"))
	var want string
	same := func(name, ws string) {
		t.Helper()
		got := sha256File(t, filepath.Join(ws, "image.tar"))
		if want == "" {
			want = got
		} else if got != want {
			t.Errorf("%s: image.tar %s, want %s", name, got, want)
		}
	}

	r := newCIRunner(t, lock, reg.Host)
	// The CI system's cache: the second job of each takes every package
	// from the imported cache, none from the mirror.
	same("github actions cache, first job", r.runGitHubJob(gh, "build-with-actions-cache", "refs/heads/main"))
	before := packages.Load()
	same("github actions cache, second job", r.runGitHubJob(gh, "build-with-actions-cache", "refs/heads/topic"))
	if n := packages.Load() - before; n != 0 {
		t.Errorf("github actions cache, second job: %d packages from the mirror, want 0 (all from the imported cache)", n)
	}
	same("gitlab cache, first job", r.runGitLabJob(gl, "build-gitlab-cache", "main"))
	before = packages.Load()
	same("gitlab cache, second job", r.runGitLabJob(gl, "build-gitlab-cache", "topic"))
	if n := packages.Load() - before; n != 0 {
		t.Errorf("gitlab cache, second job: %d packages from the mirror, want 0 (all from the imported cache)", n)
	}

	// The registry cache: main pushes, the next jobs (a pull request, a
	// merge request) pull, with the mirror gone.
	same("github registry cache, main", r.runGitHubJob(gh, "build-with-registry-cache", "refs/heads/main"))
	same("gitlab registry cache, main", r.runGitLabJob(gl, "build-registry-cache", "main"))
	mirror.Close()
	same("github registry cache, pull request", r.runGitHubJob(gh, "build-with-registry-cache", "refs/pull/1/merge"))
	same("gitlab registry cache, merge request", r.runGitLabJob(gl, "build-registry-cache", ""))
}
