package main

// Building an example spec and reading back what it produced, for
// examples_test.go and examples_mirror_test.go.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rootfsd/rootfsd/repo"
)

// copyExamples copies examples/ to a temporary directory, so that the
// locks and outputs written beside the specs stay out of the repository.
func copyExamples(t *testing.T) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "examples")
	if err := os.CopyFS(dst, os.DirFS("../../examples")); err != nil {
		t.Fatal(err)
	}
	return dst
}

// exampleBuild is what build -f wrote: the lock beside the spec, the
// layer's entries and the image configuration.
type exampleBuild struct {
	lock   *repo.Lock
	files  map[string]tarEntry
	config imageConfig
}

type imageConfig struct {
	User       string
	Env        []string
	Entrypoint []string
	Cmd        []string
	WorkingDir string
}

// buildExample runs build -f on the spec with a tar and an OCI layout
// output and reads them back.
func buildExample(t *testing.T, cache, specFile string, args ...string) *exampleBuild {
	t.Helper()
	dir := t.TempDir()
	tarFile, layout := filepath.Join(dir, "rootfs.tar"), filepath.Join(dir, "oci")
	cmd := append([]string{"--cache-dir", cache, "--daemon", "never", "build", "-f", specFile,
		"--output", "tar:" + tarFile, "--output", "oci:" + layout}, args...)
	_, stderr, code := runCLI(t, cmd...)
	if code != 0 {
		t.Fatalf("build -f %s: exit %d: %s", filepath.Base(specFile), code, stderr)
	}
	if strings.Contains(stderr, "warning: check:") {
		t.Errorf("build -f %s: the end-of-build check warns:\n%s", filepath.Base(specFile), stderr)
	}
	lock, err := repo.ReadLock(strings.TrimSuffix(specFile, ".yaml") + ".lock")
	if err != nil {
		t.Fatalf("the lock beside the spec: %v", err)
	}
	return &exampleBuild{lock: lock, files: readTar(t, tarFile), config: readLayoutConfig(t, layout)}
}

// readLayoutConfig follows an OCI layout's index to its one image's config.
func readLayoutConfig(t *testing.T, layout string) imageConfig {
	t.Helper()
	type descriptor struct{ Digest string }
	blob := func(d descriptor, v any) {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(layout, "blobs", strings.Replace(d.Digest, ":", "/", 1)))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, v); err != nil {
			t.Fatalf("%s: %v", d.Digest, err)
		}
	}
	var index struct{ Manifests []descriptor }
	data, err := os.ReadFile(filepath.Join(layout, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &index); err != nil || len(index.Manifests) != 1 {
		t.Fatalf("index.json: %v, %d manifests", err, len(index.Manifests))
	}
	var manifest struct{ Config descriptor }
	blob(index.Manifests[0], &manifest)
	var config struct{ Config imageConfig }
	blob(manifest.Config, &config)
	return config.Config
}

func (b *exampleBuild) wantPackages(t *testing.T, names ...string) {
	t.Helper()
	have := map[string]bool{}
	for _, p := range b.lock.Packages {
		have[p.Name] = true
	}
	for _, n := range names {
		if !have[n] {
			t.Errorf("the lock has no %s", n)
		}
	}
}

// wantAccount checks a line of /etc/passwd.
func (b *exampleBuild) wantAccount(t *testing.T, line string) {
	t.Helper()
	passwd := string(b.files["etc/passwd"].data)
	if !slices.Contains(strings.Split(passwd, "\n"), line) {
		t.Errorf("/etc/passwd lacks %q:\n%s", line, passwd)
	}
}

// wantFile checks a regular file's mode and, unless want is empty, its
// content.
func (b *exampleBuild) wantFile(t *testing.T, name string, mode int64, want string) {
	t.Helper()
	e, ok := b.files[name]
	switch {
	case !ok:
		t.Errorf("no /%s in the layer", name)
	case e.hdr.Typeflag != '0':
		t.Errorf("/%s: type %c, want a regular file", name, e.hdr.Typeflag)
	case e.hdr.Mode&0o7777 != mode:
		t.Errorf("/%s: mode %04o, want %04o", name, e.hdr.Mode&0o7777, mode)
	case want != "" && string(e.data) != want:
		t.Errorf("/%s:\n%s", name, cmp.Diff(want, string(e.data)))
	}
}

func (b *exampleBuild) wantDir(t *testing.T, name string, mode int64, uid int) {
	t.Helper()
	e, ok := b.files[name]
	switch {
	case !ok:
		t.Errorf("no /%s in the layer", name)
	case e.hdr.Typeflag != '5':
		t.Errorf("/%s: type %c, want a directory", name, e.hdr.Typeflag)
	case e.hdr.Mode&0o7777 != mode || e.hdr.Uid != uid:
		t.Errorf("/%s: mode %04o uid %d, want %04o uid %d", name, e.hdr.Mode&0o7777, e.hdr.Uid, mode, uid)
	}
}

func (b *exampleBuild) wantLink(t *testing.T, name, target string) {
	t.Helper()
	if e, ok := b.files[name]; !ok || e.hdr.Typeflag != '2' || e.hdr.Linkname != target {
		t.Errorf("/%s is not a symlink to %s", name, target)
	}
}

// wantConfig checks the image's user, entrypoint, command and working
// directory.
func (b *exampleBuild) wantConfig(t *testing.T, user string, entrypoint, cmd []string, workdir string) {
	t.Helper()
	want := imageConfig{User: user, Entrypoint: entrypoint, Cmd: cmd, WorkingDir: workdir, Env: b.config.Env}
	if d := cmp.Diff(want, b.config); d != "" {
		t.Errorf("image config (-want +got):\n%s", d)
	}
}

func (b *exampleBuild) wantEnv(t *testing.T, vars ...string) {
	t.Helper()
	for _, v := range vars {
		if !slices.Contains(b.config.Env, v) {
			t.Errorf("image environment lacks %s: %v", v, b.config.Env)
		}
	}
}
