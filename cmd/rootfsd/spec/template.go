package spec

import (
	"fmt"
	"strings"

	"github.com/rootfsd/rootfsd/repo"
)

// Template returns the commented starting spec `rootfsd init` writes for a
// release: every section present, the optional ones commented out.
func Template(distro string, packages []string) (string, error) {
	d, err := repo.LookupDistro(distro)
	if err != nil {
		return "", err
	}
	if len(packages) == 0 {
		packages = []string{"ca-certificates"}
	}
	arch, pin, pocket := "amd64", "curl=VERSION", d.Codename+"-security"
	source := fmt.Sprintf(`"deb [signed-by=keys/vendor.asc] https://apt.example.invalid/%s %s main"`, d.ID, d.Codename)
	if d.Family == repo.FamilyAPK {
		pin, pocket = "curl=VERSION", ""
		source = `"@vendor https://apk.example.invalid/v3/main"`
	}
	var b strings.Builder
	fmt.Fprintf(&b, `# rootfs.yaml: what rootfsd builds. The schema is docs/spec.md in rootfsd's
# repository (JSON Schema: docs/spec.schema.json).
#
#   rootfsd lock -f rootfs.yaml     pins every package in rootfs.lock, beside this file
#   rootfsd build -f rootfs.yaml    builds (from rootfs.lock when it is there)
#   rootfsd check image.tar         finds what would fail at run time

# The release: debian:12, debian:13, debian:sid, ubuntu:22.04, ubuntu:24.04,
# alpine:3.19 ... alpine:edge.
distro: %s

# One image per architecture (Debian spelling: amd64, arm64, ...).
architectures: [%s]

# base adds the release's base layout package (%s) to the packages below;
# custom installs exactly their closure; essential, minbase and apt follow
# mmdebstrap's variants.
variant: base

# Packages: a name, name=version to pin a version, or name/suite to take it
# from one pocket.
packages:
`, d.Name(), arch, d.BasePackage)
	for _, p := range packages {
		fmt.Fprintf(&b, "  - %s\n", p)
	}
	fmt.Fprintf(&b, "  # - %s\n", pin)
	if pocket != "" {
		fmt.Fprintf(&b, "  # - openssl/%s\n", pocket)
	}
	fmt.Fprintf(&b, `
# Also install Recommends, as apt does by default.
# recommends: false

# Extra repositories, each with its key (a path relative to this file).
# sources:
#   - %s: %s

# What to leave out: none, docs (documentation, man pages, locales but C),
# minimal (also package manager caches and logs). Copyright files stay.
trim: docs

# Accounts to create. A user with only a name (and uid) gets a group of the
# same name and /home/NAME.
# accounts:
#   groups:
#     - name: app
#       gid: 10001
#   users:
#     - name: app
#       uid: 10001
#       group: app
#       home: /var/lib/app
#       shell: /usr/sbin/nologin

# Image configuration.
# user: app
# workdir: /var/lib/app
# env:
#   TZ: UTC
# entrypoint: ["/usr/local/bin/app"]
# cmd: ["--help"]
# labels:
#   org.opencontainers.image.title: app
# annotations:
#   org.opencontainers.image.description: app on %s

# Directories, permissions and symlinks.
# paths:
#   - {path: /tmp, type: directory, mode: "1777"}
#   - {path: /var/lib/app, type: directory, mode: "0750", owner: "app:app"}
#   - {path: /usr/bin/python, type: symlink, target: python3}

# Local files to add (also on the command line: --add SRC:DEST[:MODE]).
# files:
#   - {src: ./bin/app, dest: /usr/local/bin/app, mode: "0755"}

# Image layers: single (one layer holding everything) or groups (a layer
# per base package such as libc6 or musl and per package over 8 MiB, then
# one for the rest, so images on the same base share those layers).
layering: single

# Where the result goes; {arch} is replaced with each architecture. With
# several architectures, oci, oci-archive and docker:// outputs without
# {arch} get an OCI image index of all the images.
# Kinds: tar, dir, oci, oci-archive, docker-archive, docker://REF.
outputs:
  - oci-archive:image-{arch}.tar
# tag: localhost/app:latest

# What the end-of-build check does with problems it finds: warn, error, off.
check: warn
`, map[bool]string{true: "apk", false: "deb"}[d.Family == repo.FamilyAPK], source, d.Name())
	return b.String(), nil
}
