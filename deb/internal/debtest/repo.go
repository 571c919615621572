package debtest

import (
	"bytes"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/klauspost/compress/gzip"
	"github.com/ulikunitz/xz"
)

// Repo describes a one-suite repository. Build turns it into files.
type Repo struct {
	Suite, Codename string // Codename defaults to Suite
	Origin          string // default "Test"
	Date            time.Time
	ValidUntil      time.Time // zero: no Valid-Until field
	// DateField, when set, is written as Date verbatim (e.g. Ubuntu's
	// "Sat, 21 Nov 2026  0:45:27 UTC").
	DateField string
	Arch      string // default "amd64"
	// Packages maps a component to its uncompressed Packages text.
	Packages map[string]string
	// ArchPackages, when set, replaces Arch and Packages: the Packages
	// text of each component by architecture, for a suite that serves
	// several (as Debian's archive does; "Architecture: all" stanzas
	// belong in each).
	ArchPackages map[string]map[string]string
	// Compressions are the Packages variants served: "" (plain), ".gz",
	// ".xz". All three are listed in Release whatever is served, as Debian
	// lists the plain Packages it does not serve. Default ".gz", ".xz".
	Compressions []string
	ByHash       bool // Acquire-By-Hash: yes, with by-hash copies
	// Signers sign InRelease and Release.gpg, each with its signing key
	// at Date.
	Signers []*openpgp.Entity
	// NoInRelease leaves InRelease out (Release + Release.gpg only).
	NoInRelease bool
	// NoPlainListed leaves the uncompressed Packages out of the Release,
	// as some third-party repositories do.
	NoPlainListed bool
}

// Dist is the directory of the suite below the mirror root.
func (r *Repo) Dist() string { return "dists/" + r.Suite + "/" }

// PackagesPath is the path of a component's Packages below Dist.
func (r *Repo) PackagesPath(comp string) string {
	return packagesPath(comp, r.arch())
}

func packagesPath(comp, arch string) string {
	return comp + "/binary-" + arch + "/Packages"
}

// byArch is ArchPackages, or Packages under Arch.
func (r *Repo) byArch() map[string]map[string]string {
	if r.ArchPackages != nil {
		return r.ArchPackages
	}
	return map[string]map[string]string{r.arch(): r.Packages}
}

func (r *Repo) arch() string {
	if r.Arch == "" {
		return "amd64"
	}
	return r.Arch
}

// Build returns the repository's files by path below the mirror root.
func (r *Repo) Build(t testing.TB) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	var list []string
	byArch := r.byArch()
	arches := make([]string, 0, len(byArch))
	compSet := map[string]bool{}
	for a, pk := range byArch {
		arches = append(arches, a)
		for c := range pk {
			compSet[c] = true
		}
	}
	sort.Strings(arches)
	comps := make([]string, 0, len(compSet))
	for c := range compSet {
		comps = append(comps, c)
	}
	sort.Strings(comps)
	served := r.Compressions
	if served == nil {
		served = []string{".gz", ".xz"}
	}
	for _, c := range comps {
		for _, a := range arches {
			r.addPackages(t, files, &list, served, byArch[a][c], packagesPath(c, a))
		}
	}
	release := []byte(r.release(arches, comps, list))
	files[r.Dist()+"Release"] = release
	if len(r.Signers) > 0 {
		files[r.Dist()+"Release.gpg"] = DetachSign(t, release, r.Date, r.Signers...)
		if !r.NoInRelease {
			files[r.Dist()+"InRelease"] = ClearSign(t, release, r.Date, r.Signers...)
		}
	}
	return files
}

// addPackages adds one Packages file (text at path below Dist) in its
// served compressions and lists every compression for the Release.
func (r *Repo) addPackages(t testing.TB, files map[string][]byte, list *[]string, served []string, text, p0 string) {
	plain := []byte(text)
	for _, ext := range []string{"", ".gz", ".xz"} {
		data := Compress(t, ext, plain)
		p := p0 + ext
		if ext != "" || !r.NoPlainListed {
			*list = append(*list, fmt.Sprintf(" %s %8d %s", Sum(data), len(data), p))
		}
		if !slices.Contains(served, ext) {
			continue
		}
		files[r.Dist()+p] = data
		if r.ByHash {
			files[r.Dist()+path.Dir(p)+"/by-hash/SHA256/"+Sum(data)] = data
		}
	}
}

func (r *Repo) release(arches, comps, list []string) string {
	var b strings.Builder
	origin, codename := r.Origin, r.Codename
	if origin == "" {
		origin = "Test"
	}
	if codename == "" {
		codename = r.Suite
	}
	date := r.DateField
	if date == "" {
		date = r.Date.UTC().Format(time.RFC1123)
	}
	fmt.Fprintf(&b, "Origin: %s\nLabel: %s\nSuite: %s\nCodename: %s\nDate: %s\n", origin, origin, r.Suite, codename, date)
	if !r.ValidUntil.IsZero() {
		fmt.Fprintf(&b, "Valid-Until: %s\n", r.ValidUntil.UTC().Format(time.RFC1123))
	}
	fmt.Fprintf(&b, "Architectures: %s\nComponents: %s\nDescription: test repository\n", strings.Join(arches, " "), strings.Join(comps, " "))
	if r.ByHash {
		b.WriteString("Acquire-By-Hash: yes\n")
	}
	b.WriteString("SHA256:\n")
	for _, l := range list {
		b.WriteString(l + "\n")
	}
	return b.String()
}

// Compress compresses data as ext ("", ".gz", ".xz") says.
func Compress(t testing.TB, ext string, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	switch ext {
	case "":
		return data
	case ".gz":
		w := gzip.NewWriter(&b)
		w.Write(data)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	case ".xz":
		w, err := xz.NewWriter(&b)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	default:
		t.Fatalf("unknown compression %q", ext)
	}
	return b.Bytes()
}

// ClearSign makes an InRelease: text clearsigned by every signer.
func ClearSign(t testing.TB, text []byte, at time.Time, signers ...*openpgp.Entity) []byte {
	t.Helper()
	keys := make([]*packet.PrivateKey, len(signers))
	for i, e := range signers {
		keys[i] = SigningKey(t, e, at)
	}
	var b bytes.Buffer
	w, err := clearsign.EncodeMulti(&b, keys, &packet.Config{Time: func() time.Time { return at }})
	if err != nil {
		t.Fatalf("clearsign: %v", err)
	}
	w.Write(text)
	if err := w.Close(); err != nil {
		t.Fatalf("clearsign: %v", err)
	}
	return b.Bytes()
}

// DetachSign makes a Release.gpg: armored detached signatures of text by
// every signer, one after the other.
func DetachSign(t testing.TB, text []byte, at time.Time, signers ...*openpgp.Entity) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := armor.Encode(&b, "PGP SIGNATURE", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range signers {
		if err := openpgp.DetachSign(w, e, bytes.NewReader(text), &packet.Config{Time: func() time.Time { return at }}); err != nil {
			t.Fatalf("detach sign: %v", err)
		}
	}
	w.Close()
	b.WriteByte('\n')
	return b.Bytes()
}

// Packages writes a small Packages index with n stanzas.
func Packages(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "Package: pkg%d\nVersion: 1.%d-1\nArchitecture: amd64\nFilename: pool/main/p/pkg%d/pkg%d_1.%d-1_amd64.deb\nSize: %d\nSHA256: %064x\nDescription: package %d\n\n", i, i, i, i, i, 1000+i, i, i)
	}
	return b.String()
}
