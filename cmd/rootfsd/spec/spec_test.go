package spec

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rootfsd/rootfsd/cmd/rootfsd/engine"
	"github.com/rootfsd/rootfsd/repo"
	"github.com/rootfsd/rootfsd/repo/overlay"
)

const full = `distro: ubuntu:24.04
architectures: [amd64]
variant: custom
components: [main, universe]
packages:
  - ca-certificates
  - curl=8.5.0-2ubuntu10.6
  - openssl/noble-security
  - {name: tzdata, version: "2024a-3ubuntu1.1"}
sources:
  - deb: "deb [signed-by=keys/vendor.asc] http://127.0.0.1:9/apt noble main"
  - {url: "http://127.0.0.1:9/other", suite: stable, components: [main, extra], key: keys/vendor.asc}
trim: minimal
accounts:
  groups:
    - {name: data, gid: 2000}
  users:
    - {name: svc, uid: 1001}
    - name: app
      uid: 10001
      groups: [data]
      home: /var/lib/app
      shell: /usr/sbin/nologin
env:
  TZ: UTC
  LANG: C.UTF-8
entrypoint: ["/usr/local/bin/app", "--serve"]
cmd: --port 8080
workdir: /var/lib/app
user: app
labels: {org.opencontainers.image.title: app}
annotations: {org.opencontainers.image.version: "1.0"}
paths:
  - {path: /tmp, type: directory, mode: "1777"}
  - {path: /var/lib/app, type: directory, mode: 0750, owner: "app:data"}
  - {path: /usr/bin/python, type: symlink, target: python3}
files:
  - {src: bin/app, dest: /usr/local/bin/app, mode: "0755", owner: "0:0"}
layering: single
outputs: ["oci-archive:out/image-{arch}.tar", "docker://localhost:5000/app:{arch}"]
tag: localhost/app:latest
check: error
`

func specDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for p, data := range map[string]string{"keys/vendor.asc": "-----BEGIN PGP PUBLIC KEY BLOCK-----\n", "bin/app": "\x7fELF static"} {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func parse(t *testing.T, dir, text string) (*Spec, error) {
	t.Helper()
	p := filepath.Join(dir, "rootfs.yaml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return Load(p)
}

func TestFullSpec(t *testing.T) {
	dir := specDir(t)
	s, err := parse(t, dir, full)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.BuildRequest("amd64")
	if err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(dir, "keys/vendor.asc")
	want := engine.BuildRequest{
		Request: repo.Request{
			Distro: "ubuntu:24.04", Arch: "amd64", Variant: repo.VariantCustom, Components: []string{"main", "universe"},
			Packages: []string{"ca-certificates", "curl=8.5.0-2ubuntu10.6", "openssl/noble-security", "tzdata=2024a-3ubuntu1.1"},
			Sources: []repo.Source{
				{URL: "http://127.0.0.1:9/apt", Suite: "noble", Components: []string{"main"}, SignedBy: key},
				{URL: "http://127.0.0.1:9/other", Suite: "stable", Components: []string{"main", "extra"}, SignedBy: key},
			},
		},
		Outputs:    []string{"oci-archive:" + filepath.Join(dir, "out/image-amd64.tar"), "docker://localhost:5000/app:amd64"},
		Tag:        "localhost/app:latest",
		Trim:       "minimal",
		Layering:   "single",
		Users:      []string{"svc:1001"},
		Env:        []string{"TZ=UTC", "LANG=C.UTF-8"},
		Cmd:        []string{"--port", "8080"},
		Entrypoint: []string{"/usr/local/bin/app", "--serve"},
		WorkingDir: "/var/lib/app", User: "app",
		Labels:      map[string]string{"org.opencontainers.image.title": "app"},
		Annotations: map[string]string{"org.opencontainers.image.version": "1.0"},
	}
	if d := cmp.Diff(want, b); d != "" {
		t.Errorf("build request (-want +got):\n%s", d)
	}
	o, err := s.Overlay()
	if err != nil {
		t.Fatal(err)
	}
	wantO := &overlay.Overlay{
		Groups: []overlay.Group{{Name: "data", GID: 2000}},
		Users:  []overlay.User{{Name: "app", UID: 10001, Groups: []string{"data"}, Home: "/var/lib/app", Shell: "/usr/sbin/nologin"}},
		Paths: []overlay.Path{
			{Path: "/tmp", Type: "directory", Mode: 0o1777, HasMode: true},
			{Path: "/var/lib/app", Type: "directory", Mode: 0o750, HasMode: true, Owner: "app:data"},
			{Path: "/usr/bin/python", Type: "symlink", Target: "python3"},
		},
		Files: []overlay.File{{Src: "bin/app", Dest: "/usr/local/bin/app", Mode: 0o755, Owner: "0:0", Data: []byte("\x7fELF static")}},
	}
	if d := cmp.Diff(wantO, o); d != "" {
		t.Errorf("overlay (-want +got):\n%s", d)
	}
	if got := s.LockPath("amd64"); got != filepath.Join(dir, "rootfs.lock") {
		t.Errorf("lock path %s", got)
	}
	if s.Check != "error" || s.Layering != "single" {
		t.Errorf("check %q layering %q", s.Check, s.Layering)
	}
}

// A typo is an error naming the file, the line and the closest valid key.
func TestErrorsNameLineAndKey(t *testing.T) {
	cases := []struct{ name, text, want string }{
		{"top-level typo", "distro: debian:12\npakages: [curl]\n", `rootfs.yaml:2: unknown key "pakages"; did you mean "packages"?`},
		{"nested typo", "distro: debian:12\naccounts:\n  users:\n    - name: app\n      hom: /srv\n", `rootfs.yaml:5: unknown key in accounts.users[0]: "hom"; did you mean "home"?`},
		{"typo in a file", "distro: debian:12\nfiles:\n  - {src: a, dest: /a, mdoe: \"0755\"}\n", `rootfs.yaml:3: unknown key in files[0]: "mdoe"; did you mean "mode"?`},
		{"typo in a package map", "distro: debian:12\npackages:\n  - {name: curl, verison: \"1\"}\n", `rootfs.yaml:3: unknown key in packages[0]: "verison"; did you mean "version"?`},
		{"far from anything", "distro: debian:12\nzzzzzzzzzzzz: 1\n", `rootfs.yaml:2: unknown key "zzzzzzzzzzzz"; valid keys are accounts, annotations, architectures`},
		{"capitalised", "Distro: debian:12\n", `rootfs.yaml:1: unknown key "Distro"; did you mean "distro"?`},
		{"list expected", "distro: debian:12\npackages: curl\n", `rootfs.yaml:2: packages: expected a list, found "curl"`},
		{"mapping expected", "distro: debian:12\naccounts: [a]\n", "rootfs.yaml:2: accounts: expected a mapping of keys, found a list"},
		{"bad bool", "distro: debian:12\nscripts: maybe\n", "rootfs.yaml:2: cannot unmarshal !!str `maybe` into bool"},
		{"bad mode", "distro: debian:12\npaths:\n  - {path: /x, type: directory, mode: \"0999\"}\n", `rootfs.yaml:3: mode "0999": expected an octal number`},
		{"unknown distro", "\ndistro: debian:99\n", `rootfs.yaml:2: distro: unknown distro "debian:99"`},
		{"missing distro", "packages: [curl]\n", "rootfs.yaml: distro is required"},
		{"bad variant", "distro: debian:12\nvariant: tiny\n", `rootfs.yaml:2: variant: unknown variant "tiny"`},
		{"custom without packages", "distro: debian:12\nvariant: custom\n", "rootfs.yaml:2: variant: variant custom installs exactly"},
		{"bad trim", "distro: debian:12\ntrim: all\n", `rootfs.yaml:2: trim: "all": use none, docs or minimal`},
		{"missing file", "distro: debian:12\nfiles:\n  - src: nope\n    dest: /x\n", "rootfs.yaml:3: files[0].src: stat "},
		{"relative dest", "distro: debian:12\nfiles:\n  - {src: bin/app, dest: x}\n", `rootfs.yaml:3: files[0].dest: "x" must be an absolute path`},
		{"source without key", "distro: debian:12\nsources:\n  - deb: \"deb http://127.0.0.1:9/x stable main\"\n", "rootfs.yaml:3: sources[0]: name the repository's key"},
		{"missing key file", "distro: debian:12\nsources:\n  - {url: \"http://127.0.0.1:9/x\", suite: s, components: [main], key: nokey.asc}\n", "rootfs.yaml:3: sources[0]: key: stat "},
		{"bad output", "distro: debian:12\noutputs: [image.tar]\n", `rootfs.yaml:2: outputs[0]: "image.tar": expected KIND:DEST`},
		{"multi-arch output", "distro: debian:12\narchitectures: [amd64, arm64]\noutputs: [\"tar:a.tar\"]\n", "rootfs.yaml:3: outputs[0]: \"tar:a.tar\": with several architectures a tar output needs {arch}"},
		{"bad user name", "distro: debian:12\naccounts:\n  users:\n    - name: App\n", `rootfs.yaml:4: accounts.users[0]: "App": user names are distinct`},
		{"symlink without target", "distro: debian:12\npaths:\n  - {path: /x, type: symlink}\n", "rootfs.yaml:3: paths[0]: a symlink needs a target"},
		{"layering", "distro: debian:12\nlayering: per-package\n", `rootfs.yaml:2: layering: "per-package": use single (one layer holding everything) or groups`},
		{"layering typo", "distro: debian:12\nlayering: signle\n", `rootfs.yaml:2: layering: "signle": use single (one layer holding everything) or groups (base and large packages in layers of their own); did you mean "single"?`},
		{"variant typo", "distro: debian:12\nvariant: minbsae\n", `rootfs.yaml:2: variant: unknown variant "minbsae": use one of base, custom, essential, minbase, apt; did you mean "minbase"?`},
		{"trim typo", "distro: debian:12\ntrim: doc\n", `rootfs.yaml:2: trim: "doc": use none, docs or minimal; did you mean "docs"?`},
		{"check typo", "distro: debian:12\ncheck: eror\n", `rootfs.yaml:2: check: "eror": use warn, error or off; did you mean "error"?`},
		{"path type prefix", "distro: debian:12\npaths:\n  - {path: /x, type: dir}\n", `rootfs.yaml:3: paths[0].type: "dir": use directory or symlink (or leave it out to change an existing path); did you mean "directory"?`},
		{"output kind typo", "distro: debian:12\noutputs: [\"oci-archve:x.tar\"]\n", `e.g. oci-archive:image.tar; did you mean "oci-archive:x.tar"?`},
		{"distro typo", "distro: debain:12\n", `rootfs.yaml:1: distro: unknown distro "debain:12": use one of`},
		{"distro typo suggestion", "distro: debain:12\n", `(or a codename such as bookworm or noble); did you mean "debian:12"?`},
		{"codename typo", "distro: bokworm\n", `did you mean "bookworm"?`},
		{"two documents", "distro: debian:12\n---\ndistro: debian:13\n", "rootfs.yaml:2: a spec is one YAML document"},
		{"syntax", "distro: debian:12\npackages: [curl\n", "rootfs.yaml:"},
		{"duplicate key", "distro: debian:12\ndistro: debian:13\n", `rootfs.yaml:2: mapping key "distro" already defined at line 1`},
		{"empty", "# nothing\n", "the spec is empty; run rootfsd init"},
	}
	dir := specDir(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse(t, dir, tc.text)
			if err == nil {
				t.Fatal("no error")
			}
			got := strings.TrimPrefix(err.Error(), dir+string(filepath.Separator))
			if !strings.Contains(got, tc.want) {
				t.Errorf("error:\n  %s\nwant it to contain:\n  %s", got, tc.want)
			}
		})
	}
}

// A value far from every valid one gets the list, not a wrong guess.
func TestNoSuggestionWhenFar(t *testing.T) {
	dir := specDir(t)
	for _, text := range []string{
		"distro: debian:12\ntrim: all\n",
		"distro: debian:12\nvariant: tiny\n",
		"distro: debian:12\nlayering: per-package\n",
		"distro: debian:12\noutputs: [\"image.tar\"]\n",
		"distro: fedora:40\n",
	} {
		_, err := parse(t, dir, text)
		if err == nil || strings.Contains(err.Error(), "did you mean") {
			t.Errorf("%q: %v", text, err)
		}
	}
}

func TestLayeringGroups(t *testing.T) {
	s, err := parse(t, specDir(t), "distro: debian:12\nlayering: groups\n")
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.BuildRequest("amd64")
	if err != nil {
		t.Fatal(err)
	}
	if b.Layering != "groups" {
		t.Errorf("build request layering %q, want groups", b.Layering)
	}
}

func TestMultiArch(t *testing.T) {
	dir := specDir(t)
	s, err := parse(t, dir, "distro: alpine:3.19\narchitectures: [amd64, arm64]\npackages: [busybox]\noutputs: [\"tar:rootfs-{arch}.tar\"]\ntag: \"localhost/x:{arch}\"\n")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"amd64", "arm64"}, s.Arches()); d != "" {
		t.Error(d)
	}
	b, err := s.BuildRequest("arm64")
	if err != nil {
		t.Fatal(err)
	}
	if b.Request.Arch != "aarch64" || b.Outputs[0] != "tar:"+filepath.Join(dir, "rootfs-arm64.tar") || b.Tag != "localhost/x:arm64" {
		t.Errorf("arm64 build: arch %s, outputs %v, tag %s", b.Request.Arch, b.Outputs, b.Tag)
	}
	if got := s.LockPath("arm64"); got != filepath.Join(dir, "rootfs.arm64.lock") {
		t.Errorf("lock path %s", got)
	}
}

func TestTemplateParses(t *testing.T) {
	for _, d := range repo.Catalog() {
		text, err := Template(d.Name(), nil)
		if err != nil {
			t.Fatal(err)
		}
		s, err := parse(t, t.TempDir(), text)
		if err != nil {
			t.Fatalf("%s: the template does not parse: %v\n%s", d.Name(), err, text)
		}
		if s.Distro != d.Name() || len(s.Packages) != 1 || s.Packages[0].Name != "ca-certificates" {
			t.Errorf("%s: %+v", d.Name(), s)
		}
		// Every commented-out section of the template is valid too.
		dir := specDir(t)
		full, err := parse(t, dir, uncomment(text))
		if err != nil {
			t.Fatalf("%s: the uncommented template does not parse: %v\n%s", d.Name(), err, uncomment(text))
		}
		if full.User != "app" || len(full.Paths) != 3 || len(full.Files) != 1 || len(full.Sources) != 1 || full.Tag == "" {
			t.Errorf("%s: uncommented template: %+v", d.Name(), full)
		}
	}
	if _, err := Template("debian:99", nil); err == nil {
		t.Error("unknown distro accepted")
	}
}

// uncomment turns "# key: ..." lines, for keys of the schema, and the
// indented comment lines that follow them into YAML.
func uncomment(text string) string {
	top := map[string]bool{}
	for _, n := range fieldNames(reflect.TypeOf(Spec{})) {
		top[n] = true
	}
	var out []string
	in := false
	for _, l := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(l, "# "); ok {
			key, _, _ := strings.Cut(rest, ":")
			if top[key] {
				out, in = append(out, rest), true
				continue
			}
			if in && strings.HasPrefix(rest, " ") {
				out = append(out, rest)
				continue
			}
		}
		in = false
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

func TestAdd(t *testing.T) {
	dir := specDir(t)
	src := filepath.Join(dir, "bin/app")
	f, err := Add(src + ":/usr/local/bin/app:0755")
	if err != nil {
		t.Fatal(err)
	}
	if f.Dest != "/usr/local/bin/app" || f.Mode != 0o755 || string(f.Data) != "\x7fELF static" {
		t.Errorf("%+v", f)
	}
	for _, bad := range []string{"app", src + ":relative", src + ":/x:999", filepath.Join(dir, "none") + ":/x", src + ":/x:0755:extra"} {
		if _, err := Add(bad); err == nil {
			t.Errorf("--add %s accepted", bad)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(full)
	f.Add("distro: debian:12\npackages: [curl]\n")
	f.Add("distro: &a debian:12\nvariant: *a\n")
	f.Add("distro: debian:12\nenv: [A=1, B]\n")
	f.Fuzz(func(t *testing.T, text string) {
		s, err := Parse("fuzz.yaml", []byte(text))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for _, a := range s.Arches() {
			if _, err := s.Request(a); err != nil {
				t.Fatalf("valid spec without a request: %v", err)
			}
		}
	})
}
