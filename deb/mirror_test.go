//go:build mirror

package deb_test

// The real-mirror suite: rootfsd's resolution against apt's own, on the
// real Debian and Ubuntu archives. Mirrors come from ROOTFSD_MIRROR /
// ROOTFSD_SECURITY_MIRROR or host discovery, exactly as for the CLI.
// Run with: go test -tags mirror -run Mirror ./deb/

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rootfsd/rootfsd/deb"
	"github.com/rootfsd/rootfsd/repo"
	"github.com/rootfsd/rootfsd/store"
)

var (
	mirrorStoreOnce sync.Once
	mirrorStore     *store.Store
	mirrorStoreErr  error
)

func sharedStore(t *testing.T) *store.Store {
	mirrorStoreOnce.Do(func() {
		dir, err := os.MkdirTemp("", "rootfsd-mirror-test-")
		if err != nil {
			mirrorStoreErr = err
			return
		}
		mirrorStore, mirrorStoreErr = store.Open(dir, store.Options{})
	})
	if mirrorStoreErr != nil {
		t.Fatal(mirrorStoreErr)
	}
	return mirrorStore
}

func mirrorsFor(t *testing.T, d *repo.Distro) repo.Resolved {
	m := repo.Mirrors{Mirror: os.Getenv("ROOTFSD_MIRROR"), SecurityMirror: os.Getenv("ROOTFSD_SECURITY_MIRROR")}
	r, err := m.Resolve(d, "amd64")
	if err != nil {
		t.Fatalf("%v", err)
	}
	// Skip loudly when the mirror does not answer at all.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodHead, r.Mirror+"/dists/"+d.Codename+"/InRelease", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		msg := fmt.Sprintf("SKIPPING real-mirror test for %s: the mirror (%s) did not answer: %v", d.Name(), r.From, err)
		fmt.Fprintf(os.Stderr, "\n!!!!! %s\n\n", msg)
		t.Skip(msg)
	}
	resp.Body.Close()
	return r
}

func backend(t *testing.T) *deb.Backend {
	st := sharedStore(t)
	return &deb.Backend{Cache: st, Fetcher: &repo.Fetcher{Cache: st}, Mirrors: repo.Mirrors{
		Mirror: os.Getenv("ROOTFSD_MIRROR"), SecurityMirror: os.Getenv("ROOTFSD_SECURITY_MIRROR")}}
}

// aptOracle runs apt-get in a private directory against an empty dpkg
// status with the same sources and returns "name version" lines.
func aptOracle(t *testing.T, d *repo.Distro, m repo.Resolved, comps []string, args ...string) []string {
	t.Helper()
	if _, err := exec.LookPath("apt-get"); err != nil {
		t.Skip("SKIPPING apt comparison: apt-get is not installed")
	}
	dir := t.TempDir()
	for _, p := range []string{"etc/apt/sources.list.d", "etc/apt/preferences.d", "etc/apt/apt.conf.d", "etc/apt/trusted.gpg.d",
		"var/lib/apt/lists/partial", "var/cache/apt/archives/partial", "var/lib/dpkg", "var/log/apt"} {
		if err := os.MkdirAll(filepath.Join(dir, p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, "var/lib/dpkg/status"), nil, 0o644)
	kr, err := deb.Keyring(d.Keyring)
	if err != nil {
		t.Fatal(err)
	}
	var keyBuf bytes.Buffer
	for _, e := range kr {
		if err := e.Serialize(&keyBuf); err != nil {
			t.Fatal(err)
		}
	}
	keyFile := filepath.Join(dir, "archive-keyring.gpg")
	os.WriteFile(keyFile, keyBuf.Bytes(), 0o644)
	var sources strings.Builder
	for _, p := range d.Pockets {
		url := m.Mirror
		if p.Security {
			url = m.SecurityMirror
		}
		fmt.Fprintf(&sources, "deb [signed-by=%s] %s %s %s\n", keyFile, url, p.Suite, strings.Join(comps, " "))
	}
	os.WriteFile(filepath.Join(dir, "etc/apt/sources.list"), []byte(sources.String()), 0o644)
	opts := []string{"-o", "Dir=" + dir, "-o", "Dir::Etc=" + filepath.Join(dir, "etc/apt"),
		"-o", "Dir::State::status=" + filepath.Join(dir, "var/lib/dpkg/status"),
		"-o", "APT::Architecture=amd64", "-o", "APT::Architectures=amd64", "-o", "Debug::NoLocking=1",
		"-o", "Acquire::Languages=none", "-o", "pkgCacheGen::ForceEssential=,",
		"-o", "Dir::Etc::TrustedParts=" + filepath.Join(dir, "etc/apt/trusted.gpg.d")}
	if out, err := exec.Command("apt-get", append(opts, "update")...).CombinedOutput(); err != nil {
		t.Fatalf("apt-get update: %v\n%s", err, out)
	}
	out, err := exec.Command("apt-get", append(append(opts, "-s", "--no-install-recommends", "install"), args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("apt-get install -s: %v\n%s", err, out)
	}
	var got []string
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		if len(f) >= 3 && f[0] == "Inst" {
			got = append(got, f[1]+" "+strings.TrimPrefix(f[2], "("))
		}
	}
	sort.Strings(got)
	return got
}

func TestMirrorAptOracle(t *testing.T) {
	cases := []struct {
		distro  string
		pkgs    []string
		variant repo.Variant
		want    int // expected count when known
	}{
		{"ubuntu:24.04", []string{"ca-certificates"}, repo.VariantCustom, 7},
		{"ubuntu:24.04", []string{"python3", "curl", "git"}, repo.VariantCustom, 0},
		{"debian:12", []string{"ca-certificates", "curl"}, repo.VariantCustom, 0},
		{"debian:13", []string{"openssh-server"}, repo.VariantCustom, 0},
		{"ubuntu:22.04", []string{"build-essential"}, repo.VariantCustom, 0},
		{"debian:12", nil, repo.VariantEssential, 0},
		{"ubuntu:24.04", nil, repo.VariantEssential, 0},
	}
	for _, tc := range cases {
		name := fmt.Sprintf("%s/%s/%s", tc.distro, tc.variant, strings.Join(tc.pkgs, "+"))
		t.Run(name, func(t *testing.T) {
			d, err := repo.LookupDistro(tc.distro)
			if err != nil {
				t.Fatal(err)
			}
			m := mirrorsFor(t, d)
			b := backend(t)
			start := time.Now()
			plan, err := b.Resolve(context.Background(), repo.Request{Distro: tc.distro, Arch: "amd64", Packages: tc.pkgs, Variant: tc.variant})
			if err != nil {
				t.Fatalf("resolve: %v", err)
			}
			took := time.Since(start)
			var got []string
			for _, p := range plan.Packages {
				got = append(got, p.Name+" "+p.Version)
			}
			sort.Strings(got)
			args := tc.pkgs
			if tc.variant == repo.VariantEssential {
				args = []string{fmt.Sprintf("?narrow(?or(?archive(^%s$),?codename(^%s$)),?architecture(amd64),?essential)", d.Codename, d.Codename)}
			}
			want := aptOracle(t, d, m, d.Components, args...)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("rootfsd differs from apt (-apt +rootfsd):\n%s", diff)
			}
			if tc.want != 0 && len(got) != tc.want {
				t.Errorf("%d packages, want %d", len(got), tc.want)
			}
			t.Logf("%d packages, equal to apt's choice; resolve took %v", len(got), took)
		})
	}
}
