package repo

import (
	"fmt"
	"sort"
	"strings"
)

// Distro is one release rootfsd knows how to build from. Catalog entries
// are data only: mirrors are never part of them (see Mirrors).
type Distro struct {
	Family Family
	// ID is the distribution: "debian", "ubuntu", "alpine".
	ID string
	// Version is the release's number or name as users write it after the
	// colon ("12", "24.04", "sid", "3.19", "edge").
	Version string
	// Codename is the suite name of the release ("bookworm", "noble"); for
	// Alpine the repository branch ("v3.19", "edge").
	Codename string
	// Aliases are other accepted spellings after "ID:" ("bookworm", "stable").
	Aliases []string
	// Pockets are the suites that make up the release, in priority order.
	Pockets []Pocket
	// Components are the default components (Debian's main; Ubuntu's main
	// and universe; Alpine's main).
	Components []string
	// Keyring names the embedded keyring the format package verifies with.
	Keyring string
	// BasePackage is what the base variant adds (base-files,
	// alpine-baselayout-data).
	BasePackage string
	// MergedUsr tells whether the release's base packages ship merged-/usr
	// links (true) or get them at install time.
	MergedUsr bool
}

// Pocket is one suite of a release.
type Pocket struct {
	Suite string
	// Security pockets are fetched from the security mirror.
	Security bool
}

// Name returns the canonical "id:version" spelling.
func (d *Distro) Name() string { return d.ID + ":" + d.Version }

// Suites returns the pocket suite names.
func (d *Distro) Suites() []string {
	s := make([]string, len(d.Pockets))
	for i, p := range d.Pockets {
		s[i] = p.Suite
	}
	return s
}

func debian(version, codename string, aliases ...string) Distro {
	return Distro{
		Family: FamilyDeb, ID: "debian", Version: version, Codename: codename, Aliases: aliases,
		Pockets: []Pocket{
			{Suite: codename},
			{Suite: codename + "-updates"},
			{Suite: codename + "-security", Security: true},
		},
		Components: []string{"main"}, Keyring: "debian", BasePackage: "base-files",
	}
}

func ubuntu(version, codename string, mergedUsr bool) Distro {
	return Distro{
		Family: FamilyDeb, ID: "ubuntu", Version: version, Codename: codename,
		Pockets: []Pocket{
			{Suite: codename},
			{Suite: codename + "-updates"},
			{Suite: codename + "-security", Security: true},
		},
		Components: []string{"main", "universe"}, Keyring: "ubuntu", BasePackage: "base-files",
		MergedUsr: mergedUsr,
	}
}

func alpine(version string) Distro {
	branch := "v" + version
	if version == "edge" {
		branch = "edge"
	}
	return Distro{
		Family: FamilyAPK, ID: "alpine", Version: version, Codename: branch,
		Pockets:    []Pocket{{Suite: branch}},
		Components: []string{"main"}, Keyring: "alpine", BasePackage: "alpine-baselayout-data",
		MergedUsr: false,
	}
}

// Catalog returns every release rootfsd knows, in a stable order.
func Catalog() []Distro {
	sid := Distro{
		Family: FamilyDeb, ID: "debian", Version: "sid", Codename: "sid", Aliases: []string{"unstable"},
		Pockets:    []Pocket{{Suite: "sid"}},
		Components: []string{"main"}, Keyring: "debian", BasePackage: "base-files",
	}
	return []Distro{
		debian("12", "bookworm"),
		debian("13", "trixie"),
		sid,
		ubuntu("22.04", "jammy", false),
		ubuntu("24.04", "noble", true),
		alpine("3.19"), alpine("3.20"), alpine("3.21"), alpine("3.22"), alpine("edge"),
	}
}

// LookupDistro finds a release by "id:version", "id:codename", an alias,
// or a bare codename ("noble"). The error lists what is known.
func LookupDistro(name string) (*Distro, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	id, ver, hasColon := strings.Cut(name, ":")
	cat := Catalog()
	for i := range cat {
		d := &cat[i]
		if hasColon {
			if d.ID != id {
				continue
			}
			if ver == d.Version || ver == d.Codename || contains(d.Aliases, ver) {
				return d, nil
			}
		} else if name == d.Codename && d.Family == FamilyDeb {
			return d, nil
		}
	}
	known := make([]string, 0, len(cat))
	for _, d := range cat {
		known = append(known, d.Name())
	}
	sort.Strings(known)
	return nil, fmt.Errorf("unknown distro %q: use one of %s (or a codename such as bookworm or noble)", name, strings.Join(known, ", "))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// DebianArch maps the common architecture spellings to Debian's.
func DebianArch(arch string) string {
	switch arch {
	case "", "x86_64":
		return "amd64"
	case "aarch64":
		return "arm64"
	}
	return arch
}

// AlpineArch maps the common architecture spellings to Alpine's.
func AlpineArch(arch string) string {
	switch arch {
	case "", "amd64":
		return "x86_64"
	case "arm64":
		return "aarch64"
	case "armhf":
		return "armhf"
	case "i386", "386":
		return "x86"
	}
	return arch
}
