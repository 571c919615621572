package repo

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// Family is a package format family.
type Family string

const (
	FamilyDeb Family = "deb"
	FamilyAPK Family = "apk"
)

// Variant selects what is added to the requested packages.
type Variant string

const (
	// VariantBase adds the release's base layout package (base-files on
	// Debian and Ubuntu, alpine-baselayout-data on Alpine). The default.
	VariantBase Variant = "base"
	// VariantCustom is exactly the closure of the requested packages.
	VariantCustom Variant = "custom"
	// VariantEssential, VariantMinbase and VariantApt follow mmdebstrap.
	VariantEssential Variant = "essential"
	VariantMinbase   Variant = "minbase"
	VariantApt       Variant = "apt"
)

// Variants lists the variants in the order --help shows them.
var Variants = []Variant{VariantBase, VariantCustom, VariantEssential, VariantMinbase, VariantApt}

// ParseVariant checks a variant name.
func ParseVariant(s string) (Variant, error) {
	if s == "" {
		return VariantBase, nil
	}
	for _, v := range Variants {
		if string(v) == s {
			return v, nil
		}
	}
	names := make([]string, len(Variants))
	for i, v := range Variants {
		names[i] = string(v)
	}
	return "", fmt.Errorf("unknown variant %q: use one of %s", s, strings.Join(names, ", "))
}

// Request is what a user asks for: a distro, packages and options.
type Request struct {
	Distro     string   `json:"distro"` // as given, e.g. "ubuntu:24.04"
	Arch       string   `json:"arch"`
	Packages   []string `json:"packages"` // "name", "name=version", "name/suite"
	Variant    Variant  `json:"variant"`
	Components []string `json:"components,omitempty"`
	// Recommends installs Recommends as apt does without --no-install-recommends.
	Recommends bool `json:"recommends,omitempty"`
	// Sources are extra repositories (PPAs, third-party, apk repositories).
	Sources []Source `json:"sources,omitempty"`
}

// Index records one verified index a plan was resolved from.
type Index struct {
	// Name identifies the index, e.g. "noble-updates" or "v3.19/main/x86_64".
	Name string `json:"name"`
	URL  string `json:"url"`
	// Digest is the SHA256 of the signed index file (InRelease, APKINDEX.tar.gz).
	Digest string `json:"digest"`
	// Date is the index's own date (Release Date:, or the tar mtime for apk).
	Date string `json:"date,omitempty"`
}

// Planned is one package chosen by a resolver.
type Planned struct {
	Name          string `json:"name"`
	Version       string `json:"version"`
	Arch          string `json:"arch"`
	Source        string `json:"source,omitempty"`
	SourceVersion string `json:"sourceVersion,omitempty"`
	// Repository is the base URL the Filename is relative to.
	Repository string `json:"repository"`
	// Filename is the path below Repository (a pool path for Debian).
	Filename string `json:"filename"`
	Size     int64  `json:"size"`
	// SHA256 of the package file, hex. Empty for apk, which is verified
	// through Checksum and the package's signature instead.
	SHA256 string `json:"sha256,omitempty"`
	// Checksum is a format-specific extra checksum (apk's C: field).
	Checksum      string `json:"checksum,omitempty"`
	InstalledSize int64  `json:"installedSize,omitempty"`
	Essential     bool   `json:"essential,omitempty"`
	Priority      string `json:"priority,omitempty"`
	MultiArch     string `json:"multiArch,omitempty"`
	Licence       string `json:"licence,omitempty"`
	// Suite names the pocket or repository it came from.
	Suite string `json:"suite,omitempty"`
	// Reason says why the package is in the plan: "requested",
	// "variant essential", or "Depends of libc-bin (libc6 (>= 2.38))".
	Reason string `json:"reason"`
	// Depends lists the names this package's dependencies resolved to, used
	// to order unpacking and configuration.
	Depends []string `json:"depends,omitempty"`
}

// ID is name=version/arch, unique within a plan.
func (p Planned) ID() string { return p.Name + "=" + p.Version + "/" + p.Arch }

// Plan is the exact package set a request resolves to.
type Plan struct {
	Family   Family    `json:"family"`
	Distro   string    `json:"distro"` // canonical, e.g. "ubuntu:24.04"
	Arch     string    `json:"arch"`
	Variant  Variant   `json:"variant"`
	Indexes  []Index   `json:"indexes"`
	Packages []Planned `json:"packages"`
}

// Sort orders packages by name, then architecture: the canonical order
// of a plan and a lockfile.
func (p *Plan) Sort() {
	sort.Slice(p.Packages, func(i, j int) bool {
		a, b := p.Packages[i], p.Packages[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Arch < b.Arch
	})
}

// Find returns the planned package called name, or nil.
func (p *Plan) Find(name string) *Planned {
	for i := range p.Packages {
		if p.Packages[i].Name == name {
			return &p.Packages[i]
		}
	}
	return nil
}

// TotalSize is the sum of the package file sizes.
func (p *Plan) TotalSize() (n int64) {
	for _, pk := range p.Packages {
		n += pk.Size
	}
	return n
}

// Backend resolves requests for one package format.
type Backend interface {
	// Resolve turns a request into a plan, fetching and verifying whatever
	// indexes it needs.
	Resolve(ctx context.Context, req Request) (*Plan, error)
}

// PackageInfo describes one version of a package for `rootfsd show`.
type PackageInfo struct {
	Name        string            `json:"name"`
	Version     string            `json:"version"`
	Arch        string            `json:"arch"`
	Suite       string            `json:"suite"`
	Candidate   bool              `json:"candidate"` // the version a resolve would pick
	Filename    string            `json:"filename"`
	Size        int64             `json:"size"`
	SHA256      string            `json:"sha256,omitempty"`
	Fields      map[string]string `json:"fields"` // Depends, Provides, Description, ...
	ProvidedBy  []string          `json:"providedBy,omitempty"`
	Description string            `json:"description,omitempty"`
}

// Shower is implemented by backends that can describe a package.
type Shower interface {
	Show(ctx context.Context, req Request, name string) ([]PackageInfo, error)
}

// PackageFetcher is implemented by backends: it downloads (or finds in the
// cache) one package file of a plan, verifies it against what the signed
// index or lock says, and returns its digest in the cache.
type PackageFetcher interface {
	FetchPackage(ctx context.Context, p Planned) (digest string, err error)
}
