package main

// The specs in examples/ are what people copy, so each one is built by a
// test: the Alpine ones here against the shared fixtures, the Debian and
// Ubuntu ones against the real mirrors (examples_mirror_test.go). A new
// example that no test builds fails TestExamplesCovered.

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rootfsd/rootfsd/cmd/rootfsd/spec"
	"github.com/rootfsd/rootfsd/repo"
)

// example says how one spec of examples/ is built and what its result
// must hold.
type example struct {
	// mirror: built by TestMirrorExamples against the real archive;
	// otherwise by TestExamplesAlpine against the fixtures.
	mirror bool
	// args are extra build flags; fixtures is the fixture server's URL.
	args  func(fixtures string) []string
	check func(t *testing.T, b *exampleBuild)
}

// examples maps every file of examples/ to its test.
var examples = map[string]example{
	"alpine-base.yaml": {
		args: func(u string) []string { return []string{"--repository", u + "/v3.19.1-iso/apks"} },
		check: func(t *testing.T, b *exampleBuild) {
			// The minirootfs world resolves to the minirootfs's 15
			// packages; alpine-release adds the release files.
			b.wantPackages(t, "alpine-baselayout", "alpine-baselayout-data", "alpine-keys", "apk-tools", "busybox",
				"busybox-binsh", "ca-certificates-bundle", "libc-utils", "libcrypto3", "libssl3", "musl", "musl-utils",
				"scanelf", "ssl_client", "zlib", "alpine-release")
			if len(b.lock.Packages) != 16 {
				t.Errorf("%d packages, want the minirootfs's 15 and alpine-release", len(b.lock.Packages))
			}
			b.wantFile(t, "bin/busybox", 0o755, "")
			b.wantFile(t, "etc/alpine-release", 0o644, "3.19.1\n")
			if osr := string(b.files["etc/os-release"].data); !strings.Contains(osr, "ID=alpine\n") || !strings.Contains(osr, "VERSION_ID=3.19.1\n") {
				t.Errorf("/etc/os-release:\n%s", osr)
			}
			b.wantFile(t, "etc/apk/world", 0o644, "alpine-baselayout\nalpine-keys\nalpine-release\napk-tools\nbusybox\nlibc-utils\n")
			b.wantFile(t, "lib/apk/db/installed", 0o644, "")
			b.wantConfig(t, "", nil, []string{"/bin/sh"}, "")
		},
	},
	"alpine-jq.yaml": {
		args: func(u string) []string { return []string{"--mirror", u} },
		check: func(t *testing.T, b *exampleBuild) {
			b.wantPackages(t, "jq", "oniguruma", "musl", "alpine-baselayout-data")
			b.wantAccount(t, "jq:x:10001:10001::/home/jq:/bin/sh")
			b.wantDir(t, "home/jq", 0o755, 10001)
			b.wantDir(t, "tmp", 0o1777, 0)
			b.wantFile(t, "usr/bin/jq", 0o755, "")
			b.wantFile(t, "lib/apk/db/installed", 0o644, "")
			b.wantConfig(t, "jq", []string{"/usr/bin/jq"}, []string{"."}, "")
		},
	},
	"ubuntu-ca.yaml": {
		mirror: true,
		check: func(t *testing.T, b *exampleBuild) {
			b.wantPackages(t, "ca-certificates", "openssl", "base-files")
			// No bash in the image: the account gets /bin/sh; Ubuntu's
			// homes are 0750.
			b.wantAccount(t, "app:x:10001:10001::/home/app:/bin/sh")
			b.wantDir(t, "home/app", 0o750, 10001)
			b.wantFile(t, "etc/ssl/certs/ca-certificates.crt", 0o644, "")
			b.wantConfig(t, "app", []string{"openssl"}, []string{"version"}, "/home/app")
		},
	},
	"debian-python.yaml": {
		mirror: true,
		check: func(t *testing.T, b *exampleBuild) {
			b.wantPackages(t, "python3-minimal", "python3.11-minimal", "ca-certificates")
			b.wantAccount(t, "app:x:10001:10001::/srv/app:/usr/sbin/nologin")
			b.wantDir(t, "srv/app", 0o750, 10001)
			b.wantLink(t, "usr/bin/python", "python3")
			b.wantConfig(t, "app", []string{"/usr/bin/python3"}, nil, "/srv/app")
			b.wantEnv(t, "PYTHONDONTWRITEBYTECODE=1", "PYTHONUNBUFFERED=1", "LANG=C.UTF-8")
		},
	},
	"debian-static.yaml": {
		mirror: true,
		check: func(t *testing.T, b *exampleBuild) {
			b.wantPackages(t, "base-files", "ca-certificates", "tzdata", "netbase")
			// No shell and no package manager (libc6 comes with openssl,
			// which ca-certificates depends on).
			for _, p := range b.lock.Packages {
				if p.Name == "bash" || p.Name == "dash" || p.Name == "dpkg" || p.Name == "apt" {
					t.Errorf("the distroless base has %s", p.Name)
				}
			}
			if _, ok := b.files["bin/sh"]; ok {
				t.Error("the distroless base has /bin/sh")
			}
			b.wantAccount(t, "nonroot:x:65532:65532::/home/nonroot:/usr/sbin/nologin")
			b.wantDir(t, "home/nonroot", 0o700, 65532)
			b.wantDir(t, "tmp", 0o1777, 0)
			nss, err := os.ReadFile("../../examples/files/nsswitch.conf")
			if err != nil {
				t.Fatal(err)
			}
			b.wantFile(t, "etc/nsswitch.conf", 0o644, string(nss))
			b.wantFile(t, "etc/services", 0o644, "")
			b.wantFile(t, "usr/share/zoneinfo/Europe/Berlin", 0o644, "")
			b.wantConfig(t, "65532", nil, nil, "/home/nonroot")
			b.wantEnv(t, "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt", "TZ=UTC")
		},
	},
}

// exampleFiles lists the specs in examples/.
func exampleFiles(t *testing.T) []string {
	t.Helper()
	names, err := filepath.Glob("../../examples/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, n := range names {
		out = append(out, filepath.Base(n))
	}
	if len(out) == 0 {
		t.Fatal("no examples in ../../examples")
	}
	return out
}

// Every example is built by some test, and every example parses.
func TestExamplesCovered(t *testing.T) {
	files := exampleFiles(t)
	var known []string
	for name := range examples {
		known = append(known, name)
	}
	slices.Sort(known)
	if d := cmp.Diff(known, files); d != "" {
		t.Errorf("examples/ (+) and the examples the tests build (-) differ; add the new example to examples in examples_test.go:\n%s", d)
	}
	for _, f := range files {
		s, err := spec.Load(filepath.Join("../../examples", f))
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		d, err := repo.LookupDistro(s.Distro)
		if err != nil {
			t.Fatal(err)
		}
		if mirror := d.Family != repo.FamilyAPK; mirror != examples[f].mirror {
			t.Errorf("%s: %s built against the real mirror: %v, want %v (only Alpine has fixtures)", f, s.Distro, examples[f].mirror, mirror)
		}
	}
}

// TestExamplesAlpine builds the Alpine examples from the fixtures on
// 127.0.0.1, all with one cache.
func TestExamplesAlpine(t *testing.T) {
	srv := httptest.NewServer(http.FileServer(http.Dir(alpineFixtures(t))))
	defer srv.Close()
	work := copyExamples(t)
	cache := filepath.Join(t.TempDir(), "cache")
	for _, f := range exampleFiles(t) {
		ex := examples[f]
		if ex.mirror || ex.check == nil {
			continue
		}
		t.Run(f, func(t *testing.T) {
			b := buildExample(t, cache, filepath.Join(work, f), ex.args(srv.URL)...)
			ex.check(t, b)
		})
	}
}
