package main

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rootfsd/rootfsd/cmd/rootfsd/spec"
	"github.com/rootfsd/rootfsd/repo"
)

// specFlags are -f and its companions on build and lock.
type specFlags struct {
	file   string
	update bool
	adds   []string
	check  string
}

// addSpecFlags registers -f on lock (build false) or build.
func (sf *specFlags) addSpecFlags(c *cobra.Command, build bool) {
	f := c.Flags()
	f.StringVarP(&sf.file, "file", "f", "", "read the request from this spec file (rootfs.yaml, see docs/spec.md); flags override what it says")
	if !build {
		return
	}
	f.BoolVar(&sf.update, "update", false, "with -f: resolve again and rewrite the lock beside the spec instead of building from it")
	f.StringArrayVar(&sf.adds, "add", nil, "add a local file to the image: SRC:DEST[:MODE], e.g. ./app:/usr/local/bin/app:0755 (repeatable)")
	f.StringVar(&sf.check, "check", "", "what the end-of-build check does with problems: warn (default), error (fail the build), off")
}

// loadSpec reads -f, refusing --lock beside it.
func loadSpec(c *cobra.Command, sf *specFlags) (*spec.Spec, error) {
	if c.Flags().Changed("lock") {
		return nil, usageError{fmt.Errorf("-f takes its lock from beside the spec: drop --lock, or drop -f")}
	}
	return loadSpecFile(sf.file)
}

// loadSpecFile reads a spec; its errors are usage errors.
func loadSpecFile(path string) (*spec.Spec, error) {
	s, err := spec.Load(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, usageError{fmt.Errorf("%w (create one with rootfsd init)", err)}
		}
		return nil, usageError{err}
	}
	return s, nil
}

// specArches are the architectures to work on: --arch picks some.
func specArches(c *cobra.Command, s *spec.Spec, rf *requestFlags) ([]string, error) {
	if c.Flags().Changed("arch") {
		return rf.arches()
	}
	return s.Arches(), nil
}

// specLockPath is the lock of arch beside the spec when n architectures
// are worked on: rootfs.lock, or rootfs.ARCH.lock for several, also when
// --arch names more than the spec lists.
func specLockPath(s *spec.Spec, arch string, n int) string {
	p := s.LockPath(arch)
	if n > 1 && len(s.Architectures) <= 1 {
		return archLockPath(p, arch)
	}
	return p
}

// specRequest is the spec's request for arch with the request flags that
// were given applied on top.
func specRequest(c *cobra.Command, s *spec.Spec, rf *requestFlags, arch string) (repo.Request, error) {
	base, err := s.Request(arch)
	if err != nil {
		return repo.Request{}, usageError{err}
	}
	saved := *rf
	defer func() { *rf = saved }()
	fillRequestFlags(c, rf, base, arch)
	req, err := rf.request()
	if err != nil {
		return repo.Request{}, err
	}
	req.Sources = append(append([]repo.Source(nil), base.Sources...), req.Sources...)
	return req, nil
}

// fillRequestFlags sets the request flags not given on the command line
// from the spec's request.
func fillRequestFlags(c *cobra.Command, rf *requestFlags, base repo.Request, arch string) {
	f := c.Flags()
	if !f.Changed("distro") {
		rf.distro = base.Distro
	}
	if !f.Changed("pkgs") {
		rf.pkgs = base.Packages
	}
	if !f.Changed("variant") {
		rf.variant = string(base.Variant)
	}
	rf.arch = arch
	if !f.Changed("components") {
		rf.components = base.Components
	}
	if !f.Changed("with-recommends") {
		rf.recommends = base.Recommends
	}
}

// lockSpec is lock -f: one lock per architecture, beside the spec.
func (g *globals) lockSpec(c *cobra.Command, sf *specFlags, rf *requestFlags, out string) error {
	s, err := loadSpec(c, sf)
	if err != nil {
		return err
	}
	arches, err := specArches(c, s, rf)
	if err != nil {
		return err
	}
	if c.Flags().Changed("output") && len(arches) > 1 {
		return usageError{fmt.Errorf("-o names one lock, the spec has %d architectures: drop -o (locks go beside the spec) or pick one with --arch", len(arches))}
	}
	for _, arch := range arches {
		req, err := specRequest(c, s, rf, arch)
		if err != nil {
			return err
		}
		lock, err := g.service().Lock(c.Context(), req, g.reporter())
		if err != nil {
			return err
		}
		path := specLockPath(s, arch, len(arches))
		if c.Flags().Changed("output") {
			path = out
		}
		if err := repo.WriteLock(path, lock); err != nil {
			return err
		}
		if !g.quiet {
			fmt.Fprintf(g.stderr, "wrote %s: %d packages, %s, digest %s\n", path, len(lock.Packages), humanBytes(lock.TotalSize()), lock.Digest()[:12])
		}
	}
	return nil
}

// requestChanges lists how b differs from the request a lock was made
// from; key paths compare by file name, so a moved checkout still matches.
func requestChanges(a, b repo.Request) []string {
	var out []string
	field := func(name, x, y string) {
		if x != y {
			out = append(out, fmt.Sprintf("%s: %s -> %s", name, orNone(x), orNone(y)))
		}
	}
	field("distro", a.Distro, b.Distro)
	field("arch", a.Arch, b.Arch)
	field("variant", string(a.Variant), string(b.Variant))
	field("packages", strings.Join(a.Packages, " "), strings.Join(b.Packages, " "))
	field("components", strings.Join(a.Components, " "), strings.Join(b.Components, " "))
	field("recommends", fmt.Sprint(a.Recommends), fmt.Sprint(b.Recommends))
	field("sources", sourceKeys(a.Sources), sourceKeys(b.Sources))
	return out
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func sourceKeys(ss []repo.Source) string {
	var out []string
	for _, s := range ss {
		key := s.SignedBy
		if !strings.Contains(key, "BEGIN") {
			key = filepath.Base(key)
		}
		out = append(out, fmt.Sprintf("%s [%s %s %s]", s, key, strings.Join(s.Arches, ","), s.Tag))
	}
	return strings.Join(out, "; ")
}
