package check

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCompleteTreeIsClean(t *testing.T) {
	root := hostTree(t, "/bin/true")
	got := runDir(t, root, Options{})
	if len(got) != 0 {
		t.Fatalf("findings on a complete tree: %+v", got)
	}
}

func TestMissingLibraryNamesBinaryLibraryAndPackage(t *testing.T) {
	root := hostTree(t, "/usr/bin/openssl")
	write(t, root, "var/lib/dpkg/info/openssl.list", "/.\n/usr\n/usr/bin\n/usr/bin/openssl\n", 0o644)
	write(t, root, "etc/ssl/certs/ca-certificates.crt", "-----BEGIN CERTIFICATE-----\n", 0o644)
	must(t, os.Remove(findLib(t, root, "libssl.so.3")))
	known := map[string][]string{"libssl3": {"libssl3"}, "libc6": {"libc6"}}
	lookup := IndexLookup("deb", func(_ context.Context, name string) []string { return known[name] })
	got := runDir(t, root, Options{Lookup: lookup})
	want := []Finding{{
		Kind: MissingLibrary, Severity: Error, Missing: "libssl.so.3",
		Paths: []string{"/usr/bin/openssl"}, Owners: []string{"openssl"}, Fix: []string{"libssl3"},
		Message: "libssl.so.3, needed by /usr/bin/openssl (from openssl), is not in the rootfs; install libssl3",
	}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("findings (-want +got):\n%s", d)
	}
	// Without an index the naming rules answer, and say they guessed.
	got = runDir(t, root, Options{})
	if len(got) != 1 || !got[0].Guessed || !slices.Contains(got[0].Fix, "libssl3") || !strings.Contains(got[0].Message, "probably libssl3t64 or libssl3") {
		t.Errorf("guessed finding: %+v", got)
	}
}

func TestMissingInterpreterAndLibc(t *testing.T) {
	root := hostTree(t, "/bin/true")
	must(t, os.Remove(findLib(t, root, "libc.so.6")))
	must(t, os.Remove(filepath.Join(root, "usr/lib64/ld-linux-x86-64.so.2")))
	got := runDir(t, root, Options{})
	var kinds []string
	for _, f := range got {
		kinds = append(kinds, string(f.Kind)+" "+f.Missing+" "+strings.Join(f.Fix, ","))
	}
	want := []string{"missing-interpreter /lib64/ld-linux-x86-64.so.2 libc6", "missing-library libc.so.6 libc6"}
	if d := cmp.Diff(want, kinds); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if !slices.Contains(got[0].Paths, "/usr/bin/true") {
		t.Errorf("interpreter finding does not name /usr/bin/true: %+v", got[0])
	}
}

// A library in a directory only ld.so.conf names is found; without the
// configuration it is not.
func TestLdSoConf(t *testing.T) {
	root := hostTree(t, "/bin/true")
	libc := findLib(t, root, "libc.so.6")
	must(t, os.MkdirAll(filepath.Join(root, "opt/lib"), 0o755))
	must(t, os.Rename(libc, filepath.Join(root, "opt/lib/libc.so.6")))
	if got := byKind(runDir(t, root, Options{}), MissingLibrary); len(got) != 1 {
		t.Fatalf("without ld.so.conf: %+v", got)
	}
	write(t, root, "etc/ld.so.conf", "include /etc/ld.so.conf.d/*.conf\n", 0o644)
	write(t, root, "etc/ld.so.conf.d/opt.conf", "# local\n/opt/lib\n", 0o644)
	if got := runDir(t, root, Options{}); len(got) != 0 {
		t.Fatalf("with ld.so.conf: %+v", got)
	}
	// LD_LIBRARY_PATH in the image environment also counts.
	must(t, os.Remove(filepath.Join(root, "etc/ld.so.conf")))
	cfg := &ImageConfig{Env: []string{"LD_LIBRARY_PATH=/opt/lib"}}
	if got := runDir(t, root, Options{Config: cfg}); len(got) != 0 {
		t.Fatalf("with LD_LIBRARY_PATH: %+v", got)
	}
}

func TestParseLdSoConf(t *testing.T) {
	dirs, inc := ParseLdSoConf([]byte("include ld.so.conf.d/*.conf\n/usr/local/lib # comment\n/opt/a:/opt/b,/opt/c\thwcap 0 nosegneg\n\n/old/libc5=libc5\nrelative\n"))
	if d := cmp.Diff([]string{"/usr/local/lib", "/opt/a", "/opt/b", "/opt/c", "/old/libc5"}, dirs); d != "" {
		t.Errorf("dirs (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"ld.so.conf.d/*.conf"}, inc); d != "" {
		t.Errorf("includes (-want +got):\n%s", d)
	}
}

func TestCABundle(t *testing.T) {
	root := hostTree(t, "/usr/bin/openssl")
	got := byKind(runDir(t, root, Options{}), NoCABundle)
	if len(got) != 1 || len(got[0].Paths) != 1 || !strings.HasSuffix(got[0].Paths[0], "/libssl.so.3") || !slices.Equal(got[0].Fix, []string{"ca-certificates"}) {
		t.Fatalf("no CA bundle: %+v", got)
	}
	write(t, root, "usr/share/ca-certificates/bundle.crt", "-----BEGIN CERTIFICATE-----\n", 0o644)
	must(t, os.MkdirAll(filepath.Join(root, "etc/ssl/certs"), 0o755))
	// The bundle reached through an absolute symlink, as Debian ships it.
	must(t, os.Symlink("/usr/share/ca-certificates/bundle.crt", filepath.Join(root, "etc/ssl/certs/ca-certificates.crt")))
	if got := byKind(runDir(t, root, Options{}), NoCABundle); len(got) != 0 {
		t.Fatalf("with a bundle: %+v", got)
	}
}

func TestImageConfig(t *testing.T) {
	root := hostTree(t, "/bin/true")
	write(t, root, "etc/passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/usr/sbin/nologin\n", 0o644)
	write(t, root, "etc/group", "root:x:0:\napp:x:1000:\n", 0o644)
	write(t, root, "usr/local/bin/run.sh", "#!/bin/sh\nexec true\n", 0o755)
	write(t, root, "usr/local/bin/data", "not a program\n", 0o644)
	cases := []struct {
		name string
		cfg  ImageConfig
		want []string
	}{
		{"ok by path", ImageConfig{Entrypoint: []string{"/usr/bin/true"}, User: "app:app"}, nil},
		{"ok by PATH through /bin", ImageConfig{Cmd: []string{"true"}, Env: []string{"PATH=/bin"}, User: "1000"}, nil},
		{"missing", ImageConfig{Entrypoint: []string{"/usr/bin/curl"}}, []string{"missing-entrypoint /usr/bin/curl curl"}},
		{"not in PATH", ImageConfig{Cmd: []string{"sh", "-c", "true"}}, []string{"missing-entrypoint sh dash"}},
		{"own program missing", ImageConfig{Entrypoint: []string{"/app/server"}}, []string{"missing-entrypoint /app/server "}},
		{"not executable", ImageConfig{Entrypoint: []string{"/usr/local/bin/data"}}, []string{"not-executable /usr/local/bin/data "}},
		{"script without shell", ImageConfig{Entrypoint: []string{"run.sh"}}, []string{"missing-script-interpreter /bin/sh dash"}},
		{"unknown user", ImageConfig{Cmd: []string{"true"}, User: "nobody:staff"}, []string{"unknown-group staff ", "unknown-user nobody "}},
		{"uid without entry", ImageConfig{Cmd: []string{"true"}, User: "4242"}, []string{"unknown-user 4242 "}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, f := range runDir(t, root, Options{Config: &tc.cfg}) {
				got = append(got, string(f.Kind)+" "+f.Missing+" "+strings.Join(f.Fix, ","))
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestTmpAndTimezone(t *testing.T) {
	root := hostTree(t, "/bin/true")
	must(t, os.Chmod(filepath.Join(root, "tmp"), 0o755))
	got := byKind(runDir(t, root, Options{}), MissingTmp)
	if len(got) != 1 || !strings.Contains(got[0].Message, "mode 0755, not 1777") || got[0].Fix[0] != "base-files" {
		t.Fatalf("tmp 0755: %+v", got)
	}
	must(t, os.Remove(filepath.Join(root, "tmp")))
	if got := byKind(runDir(t, root, Options{}), MissingTmp); len(got) != 1 || !strings.Contains(got[0].Message, "/tmp is missing") {
		t.Fatalf("no tmp: %+v", got)
	}

	write(t, root, "var/lib/dpkg/status", "Package: libc6\nStatus: install ok installed\nVersion: 2.36\n\nPackage: app-tz\nStatus: install ok installed\nDepends: libc6 (>= 2.34), tzdata | time-zone\n\nPackage: gone\nStatus: deinstall ok config-files\nDepends: tzdata\n", 0o644)
	must(t, os.Symlink("/usr/share/zoneinfo/Etc/UTC", filepath.Join(root, "etc/localtime")))
	cfg := &ImageConfig{Env: []string{"TZ=Europe/Berlin"}}
	var msgs []string
	for _, f := range byKind(runDir(t, root, Options{Config: cfg}), MissingTimezone) {
		msgs = append(msgs, f.Message)
	}
	want := []string{
		"/etc/localtime points to /usr/share/zoneinfo/Etc/UTC, which is missing: needed by the image; install tzdata",
		"/usr/share/zoneinfo (timezone data) is missing: needed by the packages app-tz; install tzdata",
		"/usr/share/zoneinfo/Europe/Berlin (for TZ=Europe/Berlin) is missing: needed by the image; install tzdata",
	}
	if d := cmp.Diff(want, msgs); d != "" {
		t.Errorf("timezone findings (-want +got):\n%s", d)
	}
	write(t, root, "usr/share/zoneinfo/Europe/Berlin", "TZif", 0o644)
	write(t, root, "usr/share/zoneinfo/Etc/UTC", "TZif", 0o644)
	if got := byKind(runDir(t, root, Options{Config: cfg}), MissingTimezone); len(got) != 0 {
		t.Fatalf("with tzdata: %+v", got)
	}
}

func TestCandidates(t *testing.T) {
	cases := []struct {
		family string
		need   Need
		want   []string
	}{
		{"deb", Need{Kind: NeedLibrary, Name: "libssl.so.3"}, []string{"libssl3t64", "libssl3", "libssl-3"}},
		{"deb", Need{Kind: NeedLibrary, Name: "libcrypto.so.3"}, []string{"libssl3t64", "libssl3"}},
		{"deb", Need{Kind: NeedLibrary, Name: "libpcre2-8.so.0"}, []string{"libpcre2-8-0t64", "libpcre2-8-0"}},
		{"deb", Need{Kind: NeedLibrary, Name: "libstdc++.so.6"}, []string{"libstdc++6t64", "libstdc++6", "libstdc++-6"}},
		{"deb", Need{Kind: NeedLibrary, Name: "libgcc_s.so.1"}, []string{"libgcc-s1"}},
		{"deb", Need{Kind: NeedLibrary, Name: "ld-linux-x86-64.so.2"}, []string{"libc6"}},
		{"apk", Need{Kind: NeedLibrary, Name: "libssl.so.3"}, []string{"libssl3", "so:libssl.so.3"}},
		{"apk", Need{Kind: NeedCommand, Name: "sh"}, []string{"cmd:sh"}},
		{"deb", Need{Kind: NeedCommand, Name: "curl", Path: "/usr/bin/curl"}, []string{"curl"}},
		{"deb", Need{Kind: NeedCommand, Name: "app", Path: "/opt/app"}, nil},
		{"apk", Need{Kind: NeedFile, Path: "/etc/ssl/certs/ca-certificates.crt"}, []string{"ca-certificates-bundle"}},
		{"", Need{Kind: NeedLibrary, Name: "libx.so.1"}, nil},
	}
	for _, tc := range cases {
		if d := cmp.Diff(tc.want, Candidates(tc.family, tc.need)); d != "" {
			t.Errorf("%s %+v (-want +got):\n%s", tc.family, tc.need, d)
		}
	}
}

func TestDistro(t *testing.T) {
	cases := map[string]string{
		"ID=debian\nVERSION_ID=\"12\"\n":                           "debian:12",
		"ID=ubuntu\nVERSION_ID=\"24.04\"\nID_LIKE=debian\n":        "ubuntu:24.04",
		"ID=alpine\nVERSION_ID=3.19.1\n":                           "alpine:3.19",
		"PRETTY_NAME=\"Debian GNU/Linux trixie/sid\"\nID=debian\n": "debian:sid",
		"ID=fedora\nVERSION_ID=40\n":                               "",
	}
	for osr, want := range cases {
		root := t.TempDir()
		write(t, root, "usr/lib/os-release", osr, 0o644)
		must(t, os.MkdirAll(filepath.Join(root, "etc"), 0o755))
		must(t, os.Symlink("../usr/lib/os-release", filepath.Join(root, "etc/os-release")))
		if got := Distro(os.DirFS(root).(fs.ReadLinkFS)); got != want {
			t.Errorf("%q: got %q, want %q", osr, got, want)
		}
	}
}
