package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rootfsd/rootfsd/repo"
)

// requestFlags are the flags that describe what to resolve.
type requestFlags struct {
	distro     string
	pkgs       []string
	variant    string
	arch       string
	components []string
	recommends bool
	sources    []string
	srcFiles   []string
	repos      []string
	locks      []string
}

func (r *requestFlags) add(c *cobra.Command, withLock bool) {
	f := c.Flags()
	f.StringVarP(&r.distro, "distro", "d", "", "release to build from: debian:12, debian:13, debian:sid, ubuntu:22.04, ubuntu:24.04, alpine:3.19 ... (also codenames: bookworm, noble)")
	f.StringSliceVarP(&r.pkgs, "pkgs", "p", nil, "packages, comma-separated, repeatable: name, name=version, name/suite")
	f.StringVar(&r.variant, "variant", "base", "package set added to --pkgs: base (adds base-files / alpine-baselayout-data), custom (exactly the closure), essential, minbase, apt (as mmdebstrap)")
	f.StringVar(&r.arch, "arch", "amd64", "architecture (Debian names: amd64, arm64, armhf, ...); build and lock take several, comma-separated: one image (and lock) each, an OCI image index for oci:, oci-archive: and docker:// outputs")
	f.StringSliceVar(&r.components, "components", nil, "components to use (default: main for Debian; main,universe for Ubuntu)")
	f.BoolVar(&r.recommends, "with-recommends", false, "also install Recommends, as apt does by default")
	f.StringArrayVar(&r.sources, "source", nil, `extra Debian source, one-line form: "deb [signed-by=/path/key.gpg] URL suite component..." (repeatable)`)
	f.StringArrayVar(&r.srcFiles, "sources-file", nil, "extra Debian sources from a file in one-line (.list) or deb822 (.sources) form; every source needs Signed-By (repeatable)")
	f.StringArrayVar(&r.repos, "repository", nil, "extra apk repository URL, optionally \"@tag URL\" (repeatable)")
	if withLock {
		f.StringArrayVar(&r.locks, "lock", nil, "use the exact package set of this lockfile instead of resolving (build: repeat it with one lock per architecture for a multi-architecture image)")
	}
}

// arches are the architectures of --arch, in order, without repeats.
func (r *requestFlags) arches() ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, a := range strings.Split(r.arch, ",") {
		a = strings.TrimSpace(a)
		if a == "" || seen[repo.DebianArch(a)] {
			return nil, usageError{fmt.Errorf("--arch %q: expected distinct architectures, comma-separated, e.g. amd64,arm64", r.arch)}
		}
		seen[repo.DebianArch(a)] = true
		out = append(out, a)
	}
	return out, nil
}

// lock is the one --lock given, or "".
func (r *requestFlags) lock() (string, error) {
	switch len(r.locks) {
	case 0:
		return "", nil
	case 1:
		return r.locks[0], nil
	}
	return "", usageError{fmt.Errorf("--lock is given %d times: this command reads one lock", len(r.locks))}
}

// request builds and checks a repo.Request.
func (r *requestFlags) request() (repo.Request, error) {
	var req repo.Request
	if strings.Contains(r.arch, ",") {
		return req, usageError{fmt.Errorf("--arch %s: this command takes one architecture (build and lock take several)", r.arch)}
	}
	if r.distro == "" {
		return req, usageError{fmt.Errorf("--distro is required, e.g. --distro ubuntu:24.04")}
	}
	d, err := repo.LookupDistro(r.distro)
	if err != nil {
		return req, usageError{err}
	}
	v, err := repo.ParseVariant(r.variant)
	if err != nil {
		return req, usageError{err}
	}
	req = repo.Request{Distro: d.Name(), Variant: v, Components: r.components, Recommends: r.recommends}
	if d.Family == repo.FamilyAPK {
		req.Arch = repo.AlpineArch(r.arch)
	} else {
		req.Arch = repo.DebianArch(r.arch)
	}
	for _, p := range r.pkgs {
		if p = strings.TrimSpace(p); p != "" {
			req.Packages = append(req.Packages, p)
		}
	}
	if len(req.Packages) == 0 && v == repo.VariantCustom {
		return req, usageError{fmt.Errorf("--variant custom needs --pkgs")}
	}
	var srcs []repo.Source
	for _, s := range r.sources {
		src, err := repo.ParseDebSourceLine(s)
		if err != nil {
			return req, usageError{fmt.Errorf("--source: %w", err)}
		}
		srcs = append(srcs, src)
	}
	for _, file := range r.srcFiles {
		data, err := os.ReadFile(file)
		if err != nil {
			return req, usageError{fmt.Errorf("--sources-file: %w", err)}
		}
		list, err := repo.ParseDebSources(data)
		if err != nil {
			return req, usageError{fmt.Errorf("--sources-file %s: %w", file, err)}
		}
		if len(list) == 0 {
			return req, usageError{fmt.Errorf("--sources-file %s: no enabled deb source in it", file)}
		}
		srcs = append(srcs, list...)
	}
	for _, src := range srcs {
		if src.SignedBy == "" {
			return req, usageError{fmt.Errorf("source %s: name its key (one-line: [signed-by=/path/key.gpg]; deb822: Signed-By:)", src)}
		}
		if _, err := os.Stat(src.SignedBy); err != nil && !strings.Contains(src.SignedBy, "BEGIN PGP") {
			return req, usageError{fmt.Errorf("source %s: signed-by key: %w", src, err)}
		}
		req.Sources = append(req.Sources, src)
	}
	for _, s := range r.repos {
		src, ok, err := repo.ParseAPKRepository(s)
		if err != nil {
			return req, usageError{fmt.Errorf("--repository: %w", err)}
		}
		if ok {
			req.Sources = append(req.Sources, src)
		}
	}
	return req, nil
}
