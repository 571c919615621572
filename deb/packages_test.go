package deb

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// A noble-shaped stanza with every field ParsePackage reads.
const opensslStanza = `Package: openssl
Architecture: amd64
Version: 3.0.13-0ubuntu3.4
Multi-Arch: foreign
Essential: no
Priority: important
Section: utils
Source: openssl (3.0.13-0ubuntu3)
Origin: Ubuntu
Maintainer: Ubuntu Developers <ubuntu-devel-discuss@lists.example>
Installed-Size: 2106
Pre-Depends: libc6 (>= 2.34)
Depends: libc6 (>= 2.38), libssl3t64 (>= 3.0.13-0ubuntu3.4),
 debconf (>= 0.5) | debconf-2.0
Recommends: ca-certificates
Conflicts: openssl-legacy
Breaks: libssl-dev (<< 3.0.13-0ubuntu3.4), python3-openssl (<< 1)
Provides: openssl-tool (= 3.0.13), openssl-abi
Filename: pool/main/o/openssl/openssl_3.0.13-0ubuntu3.4_amd64.deb
Size: 1002512
MD5sum: 2b2b7a6e7b3b8e8f45c8a6b1f0c1d1a0
SHA256: 5C0D8D8E2E4D1B1C6E1F8A9B0C2D3E4F5A6B7C8D9E0F1A2B3C4D5E6F7A8B9C0D
Description: Secure Sockets Layer toolkit - cryptographic utility
 This package is part of the OpenSSL project's implementation of the SSL
 and TLS cryptographic protocols.
 .
 It contains the general-purpose command line binary /usr/bin/openssl.
Task: minimal
Description-md5: 9b6de2bb6e1d9016aeb0f00bcf6617bd`

func TestParsePackage(t *testing.T) {
	data := []byte("\n" + opensslStanza + "\n\n")
	var got *Package
	err := ParseControl(data, func(p *Paragraph) error {
		var err error
		got, err = ParsePackage(p)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	want := &Package{
		Name: "openssl", Version: "3.0.13-0ubuntu3.4", Arch: "amd64", MultiArch: "foreign",
		Priority: "important", Section: "utils", Source: "openssl", SourceVersion: "3.0.13-0ubuntu3",
		PreDepends: []OrGroup{{{Name: "libc6", Op: OpGE, Version: "2.34"}}},
		Depends: []OrGroup{
			{{Name: "libc6", Op: OpGE, Version: "2.38"}},
			{{Name: "libssl3t64", Op: OpGE, Version: "3.0.13-0ubuntu3.4"}},
			{{Name: "debconf", Op: OpGE, Version: "0.5"}, {Name: "debconf-2.0"}},
		},
		Recommends: []OrGroup{{{Name: "ca-certificates"}}},
		Conflicts:  []Dep{{Name: "openssl-legacy"}},
		Breaks: []Dep{
			{Name: "libssl-dev", Op: OpLT, Version: "3.0.13-0ubuntu3.4"},
			{Name: "python3-openssl", Op: OpLT, Version: "1"},
		},
		Provides:      []Provide{{Name: "openssl-tool", Version: "3.0.13"}, {Name: "openssl-abi"}},
		Filename:      "pool/main/o/openssl/openssl_3.0.13-0ubuntu3.4_amd64.deb",
		Size:          1002512,
		SHA256:        "5c0d8d8e2e4d1b1c6e1f8a9b0c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d",
		InstalledSize: 2106,
	}
	if d := cmp.Diff(want, got, cmpopts.IgnoreFields(Package{}, "Raw")); d != "" {
		t.Errorf("package (-want +got):\n%s", d)
	}
	if string(got.Raw) != opensslStanza {
		t.Errorf("Raw = %q, want the stanza", got.Raw)
	}
	if &got.Raw[0] != &data[1] {
		t.Error("Raw does not alias the index buffer")
	}
}

func TestParsePackageDefaults(t *testing.T) {
	pkg := mustParse(t, minimal("Package: zlib1g", "Essential: Yes", "Multi-Arch: no", "Empty:"))
	if p := mustParse(t, minimal("Multi-Arch: Same")); p.MultiArch != "same" {
		t.Errorf("Multi-Arch: Same is %q", p.MultiArch)
	}
	if pkg.Source != "zlib1g" || pkg.SourceVersion != "1.0-1" || !pkg.Essential || pkg.MultiArch != "" {
		t.Errorf("got Source %q SourceVersion %q Essential %v MultiArch %q", pkg.Source, pkg.SourceVersion, pkg.Essential, pkg.MultiArch)
	}
	// Raw ends after the colon of a last field without a value.
	if !strings.HasSuffix(string(pkg.Raw), "\nEmpty:") {
		t.Errorf("Raw = %q", pkg.Raw)
	}
	// Source without a version; field names are case-insensitive.
	pkg = mustParse(t, minimal("package: libfoo1", "source: foo", "depends: libc6"))
	if pkg.Source != "foo" || pkg.SourceVersion != "1.0-1" || len(pkg.Depends) != 1 {
		t.Errorf("got %+v", pkg)
	}
}

func TestParsePackageHandBuilt(t *testing.T) {
	p := &Paragraph{Fields: []Field{
		{Name: []byte("Package"), Value: []byte("hello")},
		{Name: []byte("Version"), Value: []byte("2.10-3")},
		{Name: []byte("Architecture"), Value: []byte("amd64")},
		{Name: []byte("Filename"), Value: []byte("pool/main/h/hello/hello_2.10-3_amd64.deb")},
		{Name: []byte("Size"), Value: []byte("53000")},
		{Name: []byte("SHA256"), Value: []byte(strings.Repeat("ab", 32))},
		{Name: []byte("Description"), Value: []byte("example\n more")},
		{Name: []byte("X-Empty")},
	}}
	pkg, err := ParsePackage(p)
	if err != nil {
		t.Fatal(err)
	}
	want := "Package: hello\nVersion: 2.10-3\nArchitecture: amd64\n" +
		"Filename: pool/main/h/hello/hello_2.10-3_amd64.deb\nSize: 53000\nSHA256: " +
		strings.Repeat("ab", 32) + "\nDescription: example\n more\nX-Empty:"
	if string(pkg.Raw) != want {
		t.Errorf("Raw (-want +got):\n%s", cmp.Diff(want, string(pkg.Raw)))
	}
}

func TestParsePackageErrors(t *testing.T) {
	for _, tc := range []struct {
		fields []string
		want   string // substring of the error
	}{
		{[]string{"Package: Foo"}, `package stanza: Package: name "Foo"`},
		{[]string{"Package: a"}, "shorter than two"},
		{[]string{"Package: foo_bar"}, `contains '_'`},
		{[]string{"Version: 1.0-"}, `package "pkg": Version: version "1.0-": revision number is empty`},
		{[]string{"Version: abc"}, "does not start with digit"},
		{[]string{"Architecture: am_d64"}, `Architecture: architecture "am_d64"`},
		{[]string{"Multi-Arch: sometimes"}, `Multi-Arch: value "sometimes"`},
		{[]string{"Essential: maybe"}, `Essential: value "maybe"`},
		{[]string{"Source: foo (1.0"}, `Source: "foo (1.0"`},
		{[]string{"Source: foo (1.0) x"}, `Source: "foo (1.0) x"`},
		{[]string{"Source: foo (-1)"}, `Source: version "-1"`},
		{[]string{"Depends: libc6 (>= 2.38"}, `Depends: relation "libc6 (>= 2.38": version not terminated`},
		{[]string{"Conflicts: a | b"}, "Conflicts: relation"},
		{[]string{"Breaks: foo (<= )"}, `Breaks: relation "foo (<= )": version "": version string is empty`},
		{[]string{"Provides: foo (>= 1)"}, "only exact versions"},
		{[]string{"Filename: /etc/passwd"}, "not a clean relative path"},
		{[]string{"Filename: pool/../../x.deb"}, "not a clean relative path"},
		{[]string{"Filename: pool//x.deb"}, "not a clean relative path"},
		{[]string{"Filename: ./pool/x.deb"}, "not a clean relative path"},
		{[]string{"Filename: pool/x.deb/"}, "not a clean relative path"},
		{[]string{"Filename: pool/x\\y.deb"}, `contains '\\'`},
		{[]string{"Filename: pool/x y.deb"}, `contains ' '`},
		{[]string{"Filename:"}, "path of 0 bytes"},
		{[]string{"Size: -1"}, `Size: "-1" is not a non-negative integer`},
		{[]string{"Size: 99999999999999999999"}, "too large"},
		{[]string{"Installed-Size: 1k"}, "Installed-Size"},
		{[]string{"SHA256: abc"}, "not 64 hex digits"},
		{[]string{"SHA256: " + strings.Repeat("g", 64)}, "not 64 hex digits"},
		{[]string{"Version: 2", "Version: 3"}, "Version: field repeated"},
		{[]string{"Depends: aa", "depends: bb"}, "Depends: field repeated"},
	} {
		_, err := parseOne(minimal(tc.fields...))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want it to contain %q", tc.fields, err, tc.want)
		}
	}
	for _, missing := range strings.Fields(fieldNames) {
		var keep []string
		for _, l := range strings.Split(minimal("Package: pkg"), "\n") {
			if !strings.HasPrefix(l, missing+":") {
				keep = append(keep, l)
			}
		}
		_, err := parseOne(strings.Join(keep, "\n"))
		required := strings.Contains(" Package Version Architecture Filename Size SHA256 ", " "+missing+" ")
		if required != (err != nil) || err != nil && !strings.Contains(err.Error(), missing+": field missing") {
			t.Errorf("without %s: error %v", missing, err)
		}
	}
}

func TestParsePackages(t *testing.T) {
	data := []byte(minimal("Package: aa") + "\n\n" + minimal("Package: bb", "Depends: aa") + "\n")
	var names []string
	err := ParsePackages(data, func(p *Package) error {
		names = append(names, p.Name+"="+p.Version+" "+string(p.Raw[:11]))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"aa=1.0-1 Package: aa", "bb=1.0-1 Package: bb"}, names); d != "" {
		t.Errorf("packages (-want +got):\n%s", d)
	}
	// fn's error comes back as is.
	stop := errors.New("stop")
	if err := ParsePackages(data, func(*Package) error { return stop }); err != stop {
		t.Errorf("got %v, want fn's error", err)
	}
	// A bad stanza is reported with its line.
	bad := append(append([]byte{}, data...), "\nPackage: cc\nVersion: x\n"...)
	err = ParsePackages(bad, func(*Package) error { return nil })
	if err == nil || !strings.Contains(err.Error(), `line 16: package "cc": Version`) {
		t.Errorf("got %v", err)
	}
}

// TestParsePackagesFixture parses real stanzas of Ubuntu 24.04's main
// index (host names replaced by example.invalid).
func TestParsePackagesFixture(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "Packages-noble-sample"))
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*Package{}
	if err := ParsePackages(data, func(p *Package) error {
		byName[p.Name] = p
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(data, []byte("Package: ")); len(byName) != n || n != 14 {
		t.Fatalf("%d packages, %d stanzas", len(byName), n)
	}
	for _, p := range byName {
		if !bytes.HasPrefix(p.Raw, []byte("Package: "+p.Name+"\n")) || bytes.HasSuffix(p.Raw, []byte("\n")) || bytes.Contains(p.Raw, []byte("\n\n")) {
			t.Errorf("%s: Raw is not its stanza: %q", p.Name, p.Raw)
		}
		if again := mustParse(t, string(p.Raw)); !cmp.Equal(p, again, cmpopts.IgnoreFields(Package{}, "Raw")) {
			t.Errorf("%s: Raw parses differently", p.Name)
		}
	}
	type summary struct {
		Version, Source, SourceVersion, MultiArch, Priority string
		Essential                                           bool
		PreDepends, Depends, Provides, FirstBreaks          string
		Breaks                                              int
	}
	sum := func(p *Package) summary {
		s := summary{Version: p.Version, Source: p.Source, SourceVersion: p.SourceVersion, MultiArch: p.MultiArch,
			Priority: p.Priority, Essential: p.Essential, PreDepends: joinGroups(p.PreDepends),
			Depends: joinGroups(p.Depends), Breaks: len(p.Breaks)}
		var prov []string
		for _, pr := range p.Provides {
			prov = append(prov, pr.String())
		}
		s.Provides = strings.Join(prov, ", ")
		if len(p.Breaks) > 0 {
			s.FirstBreaks = p.Breaks[0].String()
		}
		return s
	}
	for name, want := range map[string]summary{
		"libc6": {Version: "2.39-0ubuntu8", Source: "glibc", SourceVersion: "2.39-0ubuntu8", MultiArch: "same",
			Priority: "required", Depends: "libgcc-s1", Breaks: 17, FirstBreaks: "chrony (<< 4.2-3~)"},
		"base-files": {Version: "13ubuntu10", Source: "base-files", SourceVersion: "13ubuntu10", MultiArch: "foreign",
			Priority: "required", Essential: true, PreDepends: "awk", Provides: "base, usr-is-merged",
			Depends: "libc6 (>= 2.34), libcrypt1 (>= 1:4.4.10-10ubuntu3)", Breaks: 4, FirstBreaks: "debian-security-support (<< 2019.04.25)"},
		"libgcc-s1": {Version: "14-20240412-0ubuntu1", Source: "gcc-14", SourceVersion: "14-20240412-0ubuntu1", MultiArch: "same",
			Priority: "required", Depends: "gcc-14-base (= 14-20240412-0ubuntu1), libc6 (>= 2.35)", Provides: "libgcc1 (= 1:14-20240412-0ubuntu1)"},
	} {
		if d := cmp.Diff(want, sum(byName[name])); d != "" {
			t.Errorf("%s (-want +got):\n%s", name, d)
		}
	}
	if p := byName["ca-certificates"]; p.Size <= 0 || len(p.SHA256) != 64 || !strings.HasPrefix(p.Filename, "pool/main/c/ca-certificates/") {
		t.Errorf("ca-certificates: %+v", p)
	}
}

// minimal returns a valid stanza whose fields are replaced or extended by
// the given "Name: value" lines.
func minimal(fields ...string) string {
	base := []string{"Package: pkg", "Version: 1.0-1", "Architecture: amd64",
		"Filename: pool/main/p/pkg/pkg_1.0-1_amd64.deb", "Size: 1234",
		"SHA256: " + strings.Repeat("0123456789abcdef", 4)}
	n := len(base)
	done := make([]bool, n)
	for _, f := range fields {
		name := f[:strings.IndexByte(f, ':')+1]
		replaced := false
		for i, b := range base[:n] {
			if !done[i] && len(b) >= len(name) && strings.EqualFold(b[:len(name)], name) {
				base[i], done[i], replaced = f, true, true
				break
			}
		}
		if !replaced {
			base = append(base, f)
		}
	}
	return strings.Join(base, "\n")
}

func parseOne(stanza string) (*Package, error) {
	var pkg *Package
	err := ParseControl([]byte(stanza), func(p *Paragraph) error {
		var err error
		pkg, err = ParsePackage(p)
		return err
	})
	return pkg, err
}

func mustParse(t *testing.T, stanza string) *Package {
	t.Helper()
	pkg, err := parseOne(stanza)
	if err != nil {
		t.Fatal(err)
	}
	return pkg
}

// TestParsePackagesReal parses real, uncompressed Packages files named in
// ROOTFSD_PACKAGES (separated by ':') and checks that every Raw parses
// back to the same package. Download an index from a mirror to run it.
func TestParsePackagesReal(t *testing.T) {
	env := os.Getenv("ROOTFSD_PACKAGES")
	if env == "" {
		t.Skip("set ROOTFSD_PACKAGES to uncompressed Packages files to run")
	}
	for _, name := range filepath.SplitList(env) {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		n, start := 0, time.Now()
		var pkgs []*Package
		if err := ParsePackages(data, func(p *Package) error {
			n++
			pkgs = append(pkgs, p)
			return nil
		}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		d := time.Since(start)
		t.Logf("%s: %d packages, %.1f MB in %v: %.0f MB/s", filepath.Base(name), n, float64(len(data))/1e6, d, float64(len(data))/1e6/d.Seconds())
		for _, p := range pkgs {
			again, err := parseOne(string(p.Raw))
			if err != nil {
				t.Fatalf("%s: Raw of %s does not parse: %v", name, p.Name, err)
			}
			if d := cmp.Diff(p, again, cmpopts.IgnoreFields(Package{}, "Raw")); d != "" {
				t.Fatalf("%s: %s parses differently from its Raw:\n%s", name, p.Name, d)
			}
		}
	}
}

// syntheticIndex returns about size bytes of Packages stanzas shaped like
// an Ubuntu index's: long descriptions, versioned dependencies with
// alternatives, Provides, Breaks, the checksum fields.
func syntheticIndex(size int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	word := func() string {
		const letters = "abcdefghijklmnopqrstuvwxyz"
		b := make([]byte, 3+r.IntN(9))
		for i := range b {
			b[i] = letters[r.IntN(len(letters))]
		}
		return string(b)
	}
	names := make([]string, 4000)
	for i := range names {
		names[i] = fmt.Sprintf("lib%s%d", word(), r.IntN(10))
	}
	ver := func() string {
		return fmt.Sprintf("%d.%d.%d-%dubuntu%d", r.IntN(10), r.IntN(30), r.IntN(20), r.IntN(5), r.IntN(4))
	}
	hex := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = "0123456789abcdef"[r.IntN(16)]
		}
		return string(b)
	}
	rel := func(n int, alts bool) string {
		var parts []string
		for range n {
			d := names[r.IntN(len(names))]
			if r.IntN(10) < 4 {
				d += " (>= " + ver() + ")"
			}
			if alts && r.IntN(8) == 0 {
				d += " | " + names[r.IntN(len(names))]
			}
			parts = append(parts, d)
		}
		return strings.Join(parts, ", ")
	}
	var b bytes.Buffer
	for i := 0; b.Len() < size; i++ {
		name, v := fmt.Sprintf("%s-%d", names[r.IntN(len(names))], i), ver()
		fmt.Fprintf(&b, "Package: %s\nArchitecture: amd64\nVersion: %s\nPriority: optional\nSection: libs\n", name, v)
		if r.IntN(2) == 0 {
			fmt.Fprintf(&b, "Source: %s (%s)\n", word(), ver())
		}
		fmt.Fprintf(&b, "Origin: Ubuntu\nMaintainer: Ubuntu Developers <ubuntu-devel-discuss@lists.example>\n")
		fmt.Fprintf(&b, "Original-Maintainer: Debian Maintainers <%s@example.org>\n", word())
		fmt.Fprintf(&b, "Bugs: https://bugs.example/ubuntu/+filebug\nInstalled-Size: %d\n", r.IntN(100000))
		if r.IntN(3) == 0 {
			b.WriteString("Multi-Arch: same\n")
		}
		if r.IntN(20) == 0 {
			fmt.Fprintf(&b, "Pre-Depends: %s\n", rel(1+r.IntN(2), false))
		}
		fmt.Fprintf(&b, "Depends: %s\n", rel(1+r.IntN(12), true))
		if r.IntN(3) == 0 {
			fmt.Fprintf(&b, "Recommends: %s\n", rel(1+r.IntN(4), true))
		}
		if r.IntN(5) == 0 {
			fmt.Fprintf(&b, "Suggests: %s\n", rel(1+r.IntN(4), true))
		}
		if r.IntN(6) == 0 {
			fmt.Fprintf(&b, "Breaks: %s (<< %s)\nReplaces: %s (<< %s)\n", word(), v, word(), v)
		}
		if r.IntN(5) == 0 {
			fmt.Fprintf(&b, "Provides: %s, %s (= %s)\n", word(), word(), v)
		}
		fmt.Fprintf(&b, "Filename: pool/main/%c/%s/%s_%s_amd64.deb\nSize: %d\n", name[0], name, name, v, r.IntN(1<<24))
		fmt.Fprintf(&b, "MD5sum: %s\nSHA1: %s\nSHA256: %s\nSHA512: %s\n", hex(32), hex(40), hex(64), hex(128))
		fmt.Fprintf(&b, "Homepage: https://%s.example.org/\nDescription: %s %s library\n", word(), word(), word())
		for range 3 + r.IntN(10) {
			b.WriteString(" ")
			for range 10 {
				b.WriteString(word())
				b.WriteByte(' ')
			}
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "Task: ubuntu-desktop, ubuntu-server\nDescription-md5: %s\n\n", hex(32))
	}
	return b.Bytes()
}

func BenchmarkParsePackages(b *testing.B) {
	data := syntheticIndex(20 << 20)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		n = 0
		if err := ParsePackages(data, func(*Package) error { n++; return nil }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n), "packages")
}

func FuzzParsePackage(f *testing.F) {
	f.Add([]byte(opensslStanza))
	f.Add([]byte(minimal("Depends: a (>= 1) | b, c:any", "Provides: x (= 1)") + "\n\n" + minimal("Package: q")))
	f.Add([]byte(minimal("Filename: ../x", "Size: 00")))
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = ParsePackages(data, func(p *Package) error {
			again, err := parseOne(string(p.Raw))
			if err != nil {
				t.Fatalf("Raw %q of a parsed package does not parse: %v", p.Raw, err)
			}
			if d := cmp.Diff(p, again, cmpopts.IgnoreFields(Package{}, "Raw")); d != "" {
				t.Fatalf("Raw parses differently:\n%s", d)
			}
			return nil
		})
	})
}

// BenchmarkParsePackagesReal parses the first file in ROOTFSD_PACKAGES.
func BenchmarkParsePackagesReal(b *testing.B) {
	data := realPackages(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := ParsePackages(data, func(*Package) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScanPackagesReal scans the first file in ROOTFSD_PACKAGES, as
// a cold resolve does for each index (the block sums included).
func BenchmarkScanPackagesReal(b *testing.B) {
	data := realPackages(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := scanPackages(data); err != nil {
			b.Fatal(err)
		}
	}
}

// realPackages reads the first file in ROOTFSD_PACKAGES.
func realPackages(b *testing.B) []byte {
	env := os.Getenv("ROOTFSD_PACKAGES")
	if env == "" {
		b.Skip("set ROOTFSD_PACKAGES to uncompressed Packages files to run")
	}
	data, err := os.ReadFile(filepath.SplitList(env)[0])
	if err != nil {
		b.Fatal(err)
	}
	return data
}
