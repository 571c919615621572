package repo

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLookupDistro(t *testing.T) {
	cases := map[string]string{
		"debian:12": "debian:12", "debian:bookworm": "debian:12", "bookworm": "debian:12",
		"debian:13": "debian:13", "trixie": "debian:13", "debian:sid": "debian:sid", "debian:unstable": "debian:sid",
		"ubuntu:22.04": "ubuntu:22.04", "jammy": "ubuntu:22.04", "ubuntu:noble": "ubuntu:24.04", "Ubuntu:24.04": "ubuntu:24.04",
		"alpine:3.19": "alpine:3.19", "alpine:edge": "alpine:edge",
	}
	for in, want := range cases {
		d, err := LookupDistro(in)
		if err != nil || d.Name() != want {
			t.Errorf("LookupDistro(%q) = %v, %v; want %s", in, d, err, want)
		}
	}
	if _, err := LookupDistro("debian:99"); err == nil || !strings.Contains(err.Error(), "debian:12") {
		t.Errorf("unknown distro error does not list the known ones: %v", err)
	}
	d, _ := LookupDistro("ubuntu:24.04")
	if diff := cmp.Diff([]string{"noble", "noble-updates", "noble-security"}, d.Suites()); diff != "" {
		t.Error(diff)
	}
	if diff := cmp.Diff([]string{"main", "universe"}, d.Components); diff != "" {
		t.Error(diff)
	}
	sid, _ := LookupDistro("sid")
	if len(sid.Pockets) != 1 {
		t.Errorf("sid has %d pockets", len(sid.Pockets))
	}
	a, _ := LookupDistro("alpine:3.19")
	if a.Codename != "v3.19" || a.BasePackage != "alpine-baselayout-data" {
		t.Errorf("alpine: %+v", a)
	}
}

func TestParseVariant(t *testing.T) {
	for _, v := range Variants {
		if got, err := ParseVariant(string(v)); err != nil || got != v {
			t.Errorf("%s: %v %v", v, got, err)
		}
	}
	if v, _ := ParseVariant(""); v != VariantBase {
		t.Errorf("default variant %q", v)
	}
	if _, err := ParseVariant("fat"); err == nil {
		t.Error("unknown variant accepted")
	}
}

func TestParseDebSources(t *testing.T) {
	oneLine := `# comment
deb [signed-by=/usr/share/keyrings/x.gpg arch=amd64] http://example.invalid/ubuntu noble main universe
deb-src http://example.invalid/ubuntu noble main
deb http://example.invalid/flat ./
`
	got, err := ParseDebSources([]byte(oneLine))
	if err != nil {
		t.Fatal(err)
	}
	want := []Source{
		{URL: "http://example.invalid/ubuntu", Suite: "noble", Components: []string{"main", "universe"}, SignedBy: "/usr/share/keyrings/x.gpg", Arches: []string{"amd64"}},
		{URL: "http://example.invalid/flat", Suite: "./", Components: []string{}},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("one-line (-want +got)\n%s", d)
	}
	deb822 := `Types: deb deb-src
URIs: http://example.invalid/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /k.gpg

Types: deb
Enabled: no
URIs: http://example.invalid/off
Suites: x
Components: main

Types: deb
URIs: https://example.invalid/ppa
Suites: noble
Components: main
Signed-By:
 -----BEGIN PGP PUBLIC KEY BLOCK-----
 .
 abc
 -----END PGP PUBLIC KEY BLOCK-----
`
	got, err = ParseDebSources([]byte(deb822))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Suite != "bookworm" || got[1].Suite != "bookworm-updates" || got[0].SignedBy != "/k.gpg" {
		t.Fatalf("deb822: %+v", got)
	}
	if !strings.HasPrefix(got[2].SignedBy, "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nabc\n") {
		t.Errorf("inline key not restored: %q", got[2].SignedBy)
	}
	for _, bad := range []string{"deb [signed-by=/k http://x/ y main", "deb ftp://x/ y main", "deb http://x/ y", "rpm http://x/ y main", "deb [novalue] http://x/ y main"} {
		if _, err := ParseDebSourceLine(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestParseAPKRepository(t *testing.T) {
	s, ok, err := ParseAPKRepository("@testing http://example.invalid/alpine/edge/testing/")
	if err != nil || !ok || s.Tag != "testing" || s.URL != "http://example.invalid/alpine/edge/testing" {
		t.Errorf("%+v %v %v", s, ok, err)
	}
	if _, ok, _ := ParseAPKRepository("# x"); ok {
		t.Error("comment accepted")
	}
	if _, _, err := ParseAPKRepository("@tag"); err == nil {
		t.Error("tag without URL accepted")
	}
}

func writeFile(t *testing.T, root, rel, data string) {
	t.Helper()
	p := filepath.Join(root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestMirrorDiscovery(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "etc/apt/sources.list.d/debian.sources", "Types: deb\nURIs: http://deb.example.invalid/debian\nSuites: bookworm bookworm-updates\nComponents: main\n\nTypes: deb\nURIs: http://sec.example.invalid/debian-security\nSuites: bookworm-security\nComponents: main\n")
	writeFile(t, root, "usr/share/debootstrap/scripts/gutsy", `case $ARCH in
  amd64|i386)
	case $SUITE in
	  gutsy|hardy)
	default_mirror http://old.example.invalid/ubuntu
	  ;;
	  *)
	default_mirror http://ubuntu.example.invalid/ubuntu
	;;
	esac
	;;
  *)
	default_mirror http://ports.example.invalid/ubuntu-ports
	;;
esac
`)
	if err := os.Symlink("gutsy", filepath.Join(root, "usr/share/debootstrap/scripts/jammy")); err != nil {
		t.Fatal(err)
	}
	m := Mirrors{HostRoot: root}
	cases := []struct{ distro, arch, mirror, security string }{
		{"debian:12", "amd64", "http://deb.example.invalid/debian", "http://sec.example.invalid/debian-security"},
		{"debian:13", "amd64", "http://deb.example.invalid/debian", "http://sec.example.invalid/debian-security"},
		{"ubuntu:22.04", "amd64", "http://ubuntu.example.invalid/ubuntu", "http://ubuntu.example.invalid/ubuntu"},
		{"ubuntu:24.04", "amd64", "http://ubuntu.example.invalid/ubuntu", "http://ubuntu.example.invalid/ubuntu"},
		{"ubuntu:24.04", "arm64", "http://ports.example.invalid/ubuntu-ports", "http://ports.example.invalid/ubuntu-ports"},
	}
	for _, tc := range cases {
		d, _ := LookupDistro(tc.distro)
		r, err := m.Resolve(d, tc.arch)
		if err != nil || r.Mirror != tc.mirror || r.SecurityMirror != tc.security {
			t.Errorf("%s/%s: %+v %v", tc.distro, tc.arch, r, err)
		}
	}
	// Ubuntu's main archive serves amd64 and i386 only: a host's Ubuntu
	// apt source without arch= is not taken for arm64 (debootstrap's ports
	// mirror is), one with arch=arm64 is.
	writeFile(t, root, "etc/apt/sources.list.d/ubuntu.list", "deb http://main.example.invalid/ubuntu noble noble-updates main\n")
	uc := []struct{ arch, line, mirror string }{
		{"amd64", "", "http://main.example.invalid/ubuntu"},
		{"arm64", "", "http://ports.example.invalid/ubuntu-ports"},
		{"arm64", "deb [arch=arm64] http://myports.example.invalid/ubuntu-ports noble main\n", "http://myports.example.invalid/ubuntu-ports"},
	}
	for _, tc := range uc {
		writeFile(t, root, "etc/apt/sources.list.d/ports.list", tc.line)
		d, _ := LookupDistro("ubuntu:24.04")
		r, err := (Mirrors{HostRoot: root, HostArch: "amd64"}).Resolve(d, tc.arch)
		if err != nil || r.Mirror != tc.mirror {
			t.Errorf("ubuntu %s with %q: %+v %v, want %s", tc.arch, tc.line, r, err, tc.mirror)
		}
	}
	// Flags win over discovery.
	d, _ := LookupDistro("debian:12")
	if r, _ := (Mirrors{HostRoot: root, Mirror: "http://flag.example.invalid/debian/"}).Resolve(d, "amd64"); r.Mirror != "http://flag.example.invalid/debian" || r.From != "configured" {
		t.Errorf("configured mirror: %+v", r)
	}
	// Nothing known: the error says what to set.
	_, err := (Mirrors{HostRoot: t.TempDir()}).Resolve(d, "amd64")
	if !errors.Is(err, ErrNoMirror) || !strings.Contains(err.Error(), "--mirror") || !strings.Contains(err.Error(), "ROOTFSD_MIRROR") {
		t.Errorf("no mirror: %v", err)
	}
	_, err = (Mirrors{HostRoot: t.TempDir(), Mirror: "http://x.invalid/debian"}).Resolve(d, "amd64")
	if !errors.Is(err, ErrNoMirror) || !strings.Contains(err.Error(), "--security-mirror") {
		t.Errorf("no security mirror: %v", err)
	}
}

func TestSuggest(t *testing.T) {
	names := []string{"ca-certificates", "ca-certificates-java", "curl", "libcurl4", "openssl", "openssh-server"}
	if got := Suggest("ca-certficates", names, 3); len(got) == 0 || got[0] != "ca-certificates" {
		t.Errorf("typo: %v", got)
	}
	if got := Suggest("curll", names, 3); len(got) == 0 || got[0] != "curl" {
		t.Errorf("curll: %v", got)
	}
	if got := Suggest("zzzzzzzz", names, 3); len(got) != 0 {
		t.Errorf("nothing close: %v", got)
	}
}
