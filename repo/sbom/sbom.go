package sbom

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/rootfsd/rootfsd/repo"
)

// Format names an SBOM format.
type Format string

const (
	FormatSPDX      Format = "spdx"
	FormatCycloneDX Format = "cyclonedx"
)

// Formats lists the supported formats in the order --help shows them.
var Formats = []Format{FormatSPDX, FormatCycloneDX}

// ParseFormat checks a format name; "spdx-json", "cdx" and "cyclonedx-json"
// are accepted spellings.
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "spdx", "spdx-json", "spdx+json":
		return FormatSPDX, nil
	case "cyclonedx", "cyclonedx-json", "cdx", "cdx-json":
		return FormatCycloneDX, nil
	}
	return "", fmt.Errorf("sbom: unknown format %q: use spdx or cyclonedx", s)
}

// MediaType is the format's IANA media type, used for OCI artifacts.
func (f Format) MediaType() string {
	if f == FormatCycloneDX {
		return "application/vnd.cyclonedx+json"
	}
	return "application/spdx+json"
}

// Ext is the conventional file name suffix.
func (f Format) Ext() string {
	if f == FormatCycloneDX {
		return ".cdx.json"
	}
	return ".spdx.json"
}

// Options describe the document. The zero value is usable: the subject is
// called "rootfs" and the document is dated 1970-01-01T00:00:00Z.
type Options struct {
	// Name is what the document describes, e.g. the image reference
	// "localhost/ca:24.04" or "rootfs".
	Name string
	// Version of the subject, e.g. the lock digest. Optional.
	Version string
	// Created dates the document. Pass SOURCE_DATE_EPOCH or the lock's
	// date to keep output reproducible.
	Created time.Time
	// Tool names the generator, e.g. "rootfsd-1.2.0" ("rootfsd" when empty).
	Tool string
	// NamespaceBase is the URI prefix of the SPDX document namespace.
	NamespaceBase string
	// DownloadLocations records each package's repository URL as its SPDX
	// downloadLocation and CycloneDX distribution reference. Off by
	// default: the mirror a plan was fetched from does not change what was
	// installed, and leaving it out keeps the document identical across
	// mirrors.
	DownloadLocations bool
}

// DefaultNamespaceBase prefixes SPDX document namespaces.
const DefaultNamespaceBase = "https://github.com/rootfsd/rootfsd/spdx"

// Generate writes the document in format f.
func Generate(f Format, p *repo.Plan, opts Options) ([]byte, error) {
	switch f {
	case FormatSPDX:
		return SPDX(p, opts)
	case FormatCycloneDX:
		return CycloneDX(p, opts)
	}
	return nil, fmt.Errorf("sbom: unknown format %q", f)
}

// entry is one package, normalised for both formats.
type entry struct {
	p        repo.Planned
	ref      string // SPDXID suffix / CycloneDX bom-ref
	purl     string
	sha256   string // hex, package file
	sha1     string // hex, apk control stream
	licence  string // valid SPDX expression, or ""
	rawLic   string // the licence as given, when not valid
	srcName  string
	srcVer   string
	location string
}

// subject is the plan's distro, resolved through the catalog.
type subject struct {
	id, version, codename, supplier string
	family                          repo.Family
}

func planSubject(p *repo.Plan) subject {
	s := subject{family: p.Family}
	s.id, s.version, _ = strings.Cut(p.Distro, ":")
	s.codename = s.version
	if d, err := repo.LookupDistro(p.Distro); err == nil {
		s.id, s.version, s.codename = d.ID, d.Version, d.Codename
	}
	switch s.id {
	case "debian":
		s.supplier = "Debian"
	case "ubuntu":
		s.supplier = "Ubuntu"
	case "alpine":
		s.supplier = "Alpine Linux"
	}
	return s
}

// entries validates the plan and returns its packages in canonical order.
func entries(p *repo.Plan, opts Options) ([]entry, subject, error) {
	if p == nil || len(p.Packages) == 0 {
		return nil, subject{}, errors.New("sbom: plan has no packages")
	}
	if p.Family != repo.FamilyDeb && p.Family != repo.FamilyAPK {
		return nil, subject{}, fmt.Errorf("sbom: unknown package family %q", p.Family)
	}
	sub := planSubject(p)
	if sub.id == "" {
		return nil, subject{}, fmt.Errorf("sbom: plan names no distro")
	}
	pkgs := append([]repo.Planned(nil), p.Packages...)
	sort.Slice(pkgs, func(i, j int) bool {
		if pkgs[i].Name != pkgs[j].Name {
			return pkgs[i].Name < pkgs[j].Name
		}
		return pkgs[i].Arch < pkgs[j].Arch
	})
	out := make([]entry, 0, len(pkgs))
	seen := map[string]bool{}
	for _, pk := range pkgs {
		e, err := newEntry(pk, sub, opts)
		if err != nil {
			return nil, subject{}, fmt.Errorf("sbom: package %s: %w", pk.ID(), err)
		}
		if seen[e.ref] {
			return nil, subject{}, fmt.Errorf("sbom: package %s listed twice", pk.ID())
		}
		seen[e.ref] = true
		out = append(out, e)
	}
	return out, sub, nil
}

func newEntry(pk repo.Planned, sub subject, opts Options) (entry, error) {
	if pk.Name == "" || pk.Version == "" {
		return entry{}, errors.New("no name or version")
	}
	e := entry{p: pk, srcName: pk.Source, srcVer: pk.SourceVersion}
	if e.srcName == "" {
		e.srcName = pk.Name
	}
	if e.srcVer == "" {
		e.srcVer = pk.Version
	}
	e.ref = elementRef(pk)
	e.purl = packageURL(sub, pk.Name, pk.Version, pk.Arch)
	if pk.SHA256 != "" {
		if !isHex(pk.SHA256, sha256.Size) {
			return entry{}, fmt.Errorf("sha256 %q is not 64 hex digits", pk.SHA256)
		}
		e.sha256 = strings.ToLower(pk.SHA256)
	}
	if pk.Checksum != "" {
		sum, err := apkChecksum(pk.Checksum)
		if err != nil {
			return entry{}, err
		}
		e.sha1 = sum
	}
	if pk.Licence != "" {
		if expr, ok := NormalizeLicence(pk.Licence); ok {
			e.licence = expr
		} else {
			e.rawLic = clipText(pk.Licence, 512)
		}
	}
	if opts.DownloadLocations && pk.Repository != "" && pk.Filename != "" {
		e.location = strings.TrimSuffix(pk.Repository, "/") + "/" + pk.Filename
	}
	return e, nil
}

// elementRef is a stable identifier made of [A-Za-z0-9.-]: the family,
// name and architecture, plus a short hash of the package ID so that names
// differing only in characters that had to be replaced stay distinct.
func elementRef(pk repo.Planned) string {
	var b strings.Builder
	for _, r := range pk.Name + "-" + pk.Arch {
		if r < 0x80 && (r == '.' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	h := sha256.Sum256([]byte(pk.ID()))
	return "Package-" + b.String() + "-" + hex.EncodeToString(h[:4])
}

func isHex(s string, n int) bool {
	if len(s) != 2*n {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

func clipText(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// nameUUID is a version 5 (name-based, SHA-1) UUID of content in a fixed
// namespace: the same content always gives the same UUID.
func nameUUID(content []byte) string {
	// The RFC 4122 URL namespace, 6ba7b811-9dad-11d1-80b4-00c04fd430c8.
	ns := []byte{0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}
	digest := sha256.Sum256(content)
	h := sha1.New()
	h.Write(ns)
	h.Write([]byte("rootfsd-sbom:" + hex.EncodeToString(digest[:])))
	u := h.Sum(nil)[:16]
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	x := hex.EncodeToString(u)
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}

// timestamp formats t in UTC to the second, the form both specs show.
func timestamp(t time.Time) string {
	if t.IsZero() {
		t = time.Unix(0, 0)
	}
	return t.UTC().Truncate(time.Second).Format("2006-01-02T15:04:05Z")
}

func (o Options) name() string {
	if o.Name == "" {
		return "rootfs"
	}
	return o.Name
}

func (o Options) tool() string {
	if o.Tool == "" {
		return "rootfsd"
	}
	return o.Tool
}
