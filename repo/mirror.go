package repo

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
)

// ErrNoMirror is wrapped by Mirrors.Resolve when no mirror is known.
var ErrNoMirror = errors.New("no mirror known")

// Mirrors says where a release's pockets are fetched from. Mirrors are
// never built into rootfsd: they come from flags, the environment and the
// config file (Mirror, SecurityMirror), or are discovered on the host from
// its apt sources and debootstrap's scripts.
type Mirrors struct {
	// Mirror is the base URL of the archive ("http://host/debian").
	Mirror string
	// SecurityMirror serves the security pocket. Empty: discovered, or for
	// Ubuntu the main mirror, which carries the security pocket too.
	SecurityMirror string
	// HostRoot is the root discovery reads host files below; "" is "/".
	HostRoot string
	// NoDiscovery turns host discovery off.
	NoDiscovery bool
	// HostArch is the host's architecture in Debian spelling, which its
	// apt sources serve when they name none ("": this machine's).
	HostArch string
}

// Resolved is the outcome of Resolve: a base URL per pocket kind and
// where each came from (for messages and `rootfsd config`).
type Resolved struct {
	Mirror, SecurityMirror string
	From, SecurityFrom     string
}

// Resolve finds the mirrors for d. arch selects the branch of debootstrap's
// per-architecture mirror choice.
func (m Mirrors) Resolve(d *Distro, arch string) (Resolved, error) {
	r := Resolved{Mirror: strings.TrimRight(m.Mirror, "/"), SecurityMirror: strings.TrimRight(m.SecurityMirror, "/")}
	if r.Mirror != "" {
		r.From = "configured"
	}
	if r.SecurityMirror != "" {
		r.SecurityFrom = "configured"
	}
	root := m.HostRoot
	if root == "" {
		root = "/"
	}
	if !m.NoDiscovery && d.Family == FamilyDeb {
		if r.Mirror == "" {
			r.Mirror, r.From = discoverApt(root, d, arch, m.hostArch(), false)
		}
		if r.Mirror == "" {
			r.Mirror, r.From = discoverDebootstrap(root, d, arch)
		}
		if r.SecurityMirror == "" && hasSecurity(d) {
			r.SecurityMirror, r.SecurityFrom = discoverApt(root, d, arch, m.hostArch(), true)
		}
	}
	if r.Mirror == "" {
		what := "URL of a " + d.ID + " archive mirror"
		if d.Family == FamilyAPK {
			what = "URL of an Alpine mirror (rootfsd appends /" + d.Codename + "/main), or use --repository with full repository URLs"
		}
		return r, fmt.Errorf("%w for %s: set --mirror to the %s, or ROOTFSD_MIRROR, or mirror = \"...\" in the config file", ErrNoMirror, d.Name(), what)
	}
	if r.SecurityMirror == "" && hasSecurity(d) {
		if d.ID == "ubuntu" {
			r.SecurityMirror, r.SecurityFrom = r.Mirror, r.From+" (Ubuntu's archive carries the security pocket)"
		} else {
			return r, fmt.Errorf("%w for the security pocket of %s: set --security-mirror, or ROOTFSD_SECURITY_MIRROR, or security-mirror = \"...\" in the config file", ErrNoMirror, d.Name())
		}
	}
	return r, nil
}

func hasSecurity(d *Distro) bool {
	for _, p := range d.Pockets {
		if p.Security {
			return true
		}
	}
	return false
}

// hostArch is HostArch, or this machine's architecture in Debian spelling.
func (m Mirrors) hostArch() string {
	if m.HostArch != "" {
		return m.HostArch
	}
	switch runtime.GOARCH {
	case "386":
		return "i386"
	case "arm":
		return "armhf"
	case "ppc64le":
		return "ppc64el"
	}
	return runtime.GOARCH
}

// ubuntuMainArches are the architectures Ubuntu's main archive carries;
// the others are on the ports archive, a mirror of its own.
func ubuntuMainArch(arch string) bool { return arch == "amd64" || arch == "i386" }

// servesArch reports whether a host apt source can serve arch: one that
// names its architectures (arch=) serves those; one that does not serves
// the host's, and for Ubuntu every architecture of the same archive (main
// or ports) as the host's. Debian's archive carries every architecture.
func servesArch(s Source, d *Distro, arch, host string) bool {
	if len(s.Arches) > 0 {
		return slices.Contains(s.Arches, arch)
	}
	return d.ID != "ubuntu" || ubuntuMainArch(arch) == ubuntuMainArch(host)
}

// discoverApt looks through the host's apt sources for a source of the
// same distribution (any of its releases: a bookworm mirror serves trixie)
// that serves arch.
func discoverApt(root string, d *Distro, arch, host string, security bool) (string, string) {
	var files []string
	files = append(files, filepath.Join(root, "etc/apt/sources.list"))
	for _, pat := range []string{"*.list", "*.sources"} {
		m, _ := filepath.Glob(filepath.Join(root, "etc/apt/sources.list.d", pat))
		files = append(files, m...)
	}
	best, bestFrom, bestScore := "", "", 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		srcs, err := ParseDebSources(data)
		if err != nil {
			continue
		}
		for _, s := range srcs {
			base, pocket, _ := strings.Cut(s.Suite, "-")
			if (pocket == "security") != security || (pocket != "" && pocket != "security" && pocket != "updates") {
				continue
			}
			other, err := LookupDistro(base)
			if err != nil || other.ID != d.ID || !servesArch(s, d, arch, host) {
				continue
			}
			score := 1
			if base == d.Codename {
				score = 2
			}
			if score > bestScore {
				best, bestFrom, bestScore = s.URL, "host apt sources ("+strings.TrimPrefix(f, strings.TrimRight(root, "/"))+")", score
			}
		}
	}
	return best, bestFrom
}
