package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/rootfsd/rootfsd/deb/debtest"
	"github.com/rootfsd/rootfsd/repo"
)

func fixturePkg(name, version string, extra ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Package: %s\nVersion: %s\nArchitecture: amd64\n", name, version)
	for _, e := range extra {
		b.WriteString(e + "\n")
	}
	fmt.Fprintf(&b, "Filename: pool/main/%s/%s_%s_amd64.deb\nSize: 1234\nSHA256: %064x\nDescription: %s package\n\n", name[:1], name, version, len(name), name)
	return b.String()
}

// fixtureArchive serves a signed debian:12 archive (three pockets) on
// 127.0.0.1 and returns the global flags that point rootfsd at it.
func fixtureArchive(t *testing.T) []string {
	t.Helper()
	key := debtest.NewKey(t, "rootfsd test archive", debtest.KeyOptions{})
	release := fixturePkg("base-files", "12.4", "Essential: yes", "Priority: required", "Pre-Depends: awk") +
		fixturePkg("curl", "7.88", "Depends: libcurl4 (= 7.88), libc6 (>= 2.34)") +
		fixturePkg("libcurl4", "7.88", "Depends: libc6") +
		fixturePkg("libc6", "2.36-9", "Priority: required") +
		fixturePkg("mawk", "1.3.4", "Provides: awk", "Priority: required")
	pockets := map[string]string{
		"bookworm":          release,
		"bookworm-updates":  fixturePkg("libc6", "2.36-9+deb12u1", "Priority: required"),
		"bookworm-security": fixturePkg("curl", "7.88-sec1", "Depends: libcurl4, libc6"),
	}
	files := map[string][]byte{}
	for suite, text := range pockets {
		r := &debtest.Repo{Suite: suite, Date: debtest.Epoch(), Packages: map[string]string{"main": text}, Signers: []*openpgp.Entity{key}}
		for p, b := range r.Build(t) {
			files[p] = b
		}
	}
	srv := debtest.Serve(t, files)
	kr := filepath.Join(t.TempDir(), "archive.gpg")
	if err := os.WriteFile(kr, debtest.PublicKeyring(t, key), 0o644); err != nil {
		t.Fatal(err)
	}
	return []string{"--mirror", srv.URL, "--security-mirror", srv.URL, "--keyring", kr, "--cache-dir", t.TempDir()}
}

func runCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), code
}

func TestCLIResolveLockShow(t *testing.T) {
	g := fixtureArchive(t)
	out, stderr, code := runCLI(t, append(g, "resolve", "--distro", "debian:12", "--pkgs", "curl")...)
	if code != 0 {
		t.Fatalf("resolve: exit %d: %s", code, stderr)
	}
	for _, want := range []string{"curl", "7.88-sec1", "bookworm-security", "requested", "libc6", "2.36-9+deb12u1", "base-files", "variant base", "mawk", "Pre-Depends of base-files (awk)", "5 packages"} {
		if !strings.Contains(out, want) {
			t.Errorf("resolve output lacks %q:\n%s", want, out)
		}
	}

	lockFile := filepath.Join(t.TempDir(), "rootfs.lock")
	if _, stderr, code := runCLI(t, append(g, "lock", "--distro", "debian:12", "--pkgs", "curl", "--variant", "custom", "-o", lockFile)...); code != 0 {
		t.Fatalf("lock: exit %d: %s", code, stderr)
	}
	l, err := repo.ReadLock(lockFile)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Packages) != 3 || l.Request.Variant != repo.VariantCustom || len(l.Indexes) != 3 {
		t.Fatalf("lock: %d packages, variant %q, %d indexes", len(l.Packages), l.Request.Variant, len(l.Indexes))
	}
	out, _, code = runCLI(t, "resolve", "--lock", lockFile, "--format", "json")
	var plan repo.Plan
	if code != 0 || json.Unmarshal([]byte(out), &plan) != nil || len(plan.Packages) != 3 {
		t.Fatalf("resolve --lock: exit %d, %d packages\n%s", code, len(plan.Packages), out)
	}

	out, _, code = runCLI(t, append(g, "show", "--distro", "debian:12", "libc6")...)
	if code != 0 || !strings.Contains(out, "2.36-9+deb12u1 amd64 from bookworm-updates (candidate)") || !strings.Contains(out, "2.36-9 amd64 from bookworm\n") {
		t.Errorf("show: exit %d\n%s", code, out)
	}
	out, _, code = runCLI(t, append(g, "show", "--distro", "debian:12", "awk")...)
	if code != 0 || !strings.Contains(out, "mawk") {
		t.Errorf("show of a virtual package: exit %d\n%s", code, out)
	}
}

func TestCLIErrors(t *testing.T) {
	g := fixtureArchive(t)
	cases := []struct {
		args []string
		code int
		msg  string
	}{
		{append(g, "resolve", "--distro", "debian:12", "--pkgs", "curll"), exitUnsatisfied, "did you mean curl"},
		{append(g, "resolve", "--distro", "debian:99", "--pkgs", "curl"), exitUsage, "unknown distro"},
		{append(g, "resolve", "--pkgs", "curl"), exitUsage, "--distro is required"},
		{append(g, "resolve", "--distro", "debian:12", "--variant", "tiny"), exitUsage, "unknown variant"},
		{append(g, "resolve", "--distro", "debian:12", "--pkgs", "curl=9.9"), exitFailure, "available: 7.88-sec1"},
		{append(g, "resolve", "--distro", "debian:12", "--format", "yaml"), exitUsage, "use table or json"},
		{[]string{"resolve", "--bogus"}, exitUsage, "unknown flag"},
		{append(g, "resolve", "--distro", "debian:12", "--source", "deb http://127.0.0.1:1/x stable main"), exitUsage, "signed-by"},
		{[]string{"--cache-dir", t.TempDir(), "--mirror", "http://127.0.0.1:1", "--security-mirror", "http://127.0.0.1:1", "resolve", "--distro", "debian:12", "--offline"}, exitFailure, "offline"},
	}
	for _, tc := range cases {
		_, stderr, code := runCLI(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.msg) {
			t.Errorf("%v: exit %d (want %d), stderr %q does not say %q", tc.args[len(tc.args)-3:], code, tc.code, stderr, tc.msg)
		}
	}
}

func TestCLIHelpTeaches(t *testing.T) {
	for _, cmd := range []string{"resolve", "lock", "show", "build"} {
		out, _, code := runCLI(t, cmd, "--help")
		if code != 0 || !strings.Contains(out, "Examples:") || !strings.Contains(out, "rootfsd "+cmd) {
			t.Errorf("%s --help: exit %d, no examples:\n%s", cmd, code, out)
		}
	}
	out, _, _ := runCLI(t, "--help")
	if !strings.Contains(out, "Exit codes:") {
		t.Errorf("root --help does not document exit codes:\n%s", out)
	}
}

// TestCLIExtraSource resolves a package that only a third-party repository
// (its own key, deb822 sources file) has; without the key it is refused.
func TestCLIExtraSource(t *testing.T) {
	g := fixtureArchive(t)
	key := debtest.NewKey(t, "third party", debtest.KeyOptions{})
	r := &debtest.Repo{Suite: "stable", Date: debtest.Epoch(), Packages: map[string]string{"main": fixturePkg("tool", "2.0", "Depends: libc6")}, Signers: []*openpgp.Entity{key}}
	srv := debtest.Serve(t, r.Build(t))
	dir := t.TempDir()
	kr := filepath.Join(dir, "third.gpg")
	os.WriteFile(kr, debtest.PublicKeyring(t, key), 0o644)
	sources := filepath.Join(dir, "third.sources")
	os.WriteFile(sources, []byte(fmt.Sprintf("Types: deb\nURIs: %s\nSuites: stable\nComponents: main\nSigned-By: %s\n", srv.URL, kr)), 0o644)
	out, stderr, code := runCLI(t, append(g, "resolve", "--distro", "debian:12", "--variant", "custom", "--pkgs", "tool", "--sources-file", sources)...)
	if code != 0 || !strings.Contains(out, "tool") || !strings.Contains(out, "stable") || !strings.Contains(out, "2.36-9+deb12u1") {
		t.Fatalf("extra source: exit %d\n%s%s", code, out, stderr)
	}
	os.WriteFile(sources, []byte(fmt.Sprintf("Types: deb\nURIs: %s\nSuites: stable\nComponents: main\n", srv.URL)), 0o644)
	if _, stderr, code := runCLI(t, append(g, "resolve", "--distro", "debian:12", "--pkgs", "tool", "--sources-file", sources)...); code != exitUsage || !strings.Contains(stderr, "Signed-By") {
		t.Errorf("source without a key: exit %d: %s", code, stderr)
	}
}
