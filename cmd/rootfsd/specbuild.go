package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rootfsd/rootfsd/cmd/rootfsd/engine"
	"github.com/rootfsd/rootfsd/cmd/rootfsd/spec"
	"github.com/rootfsd/rootfsd/repo"
	"github.com/rootfsd/rootfsd/repo/overlay"
)

// specBuild is one build of build -f.
type specBuild struct {
	req      engine.BuildRequest
	lockPath string
	// writeLock is set when the build resolves (no lock yet, or --update)
	// and its lock is to be written beside the spec.
	writeLock bool
	check     string
}

// specBuilds turns build -f into one build per architecture: the spec's
// values, the given flags on top, and the lock beside the spec.
func (g *globals) specBuilds(c *cobra.Command, sf *specFlags, bf *buildFlags) ([]specBuild, *spec.Spec, error) {
	s, err := loadSpec(c, sf)
	if err != nil {
		return nil, nil, err
	}
	ov, err := s.Overlay()
	if err != nil {
		return nil, nil, usageError{err}
	}
	for _, a := range sf.adds {
		f, err := spec.Add(a)
		if err != nil {
			return nil, nil, usageError{err}
		}
		ov.Files = append(ov.Files, f)
	}
	if err := ov.Check(); err != nil {
		return nil, nil, usageError{err}
	}
	arches, err := specArches(c, s, &bf.requestFlags)
	if err != nil {
		return nil, nil, err
	}
	var out []specBuild
	for _, arch := range arches {
		b, err := g.specBuild(c, s, sf, bf, arch, specLockPath(s, arch, len(arches)))
		if err != nil {
			return nil, nil, err
		}
		if !ov.Empty() {
			b.req.Overlay = ov
		}
		out = append(out, b)
	}
	return out, s, nil
}

// mergePlatforms makes the builds of a spec's architectures one
// multi-architecture build: the outputs and tag keep {arch} (written per
// architecture), the others get an image index.
func mergePlatforms(c *cobra.Command, s *spec.Spec, bf *buildFlags, builds []specBuild) engine.BuildRequest {
	req := builds[0].req
	req.Request, req.Lock = repo.Request{}, nil
	req.Outputs, req.Tag = s.Destinations()
	if c.Flags().Changed("output") {
		req.Outputs = bf.outputs
	}
	if c.Flags().Changed("tag") {
		req.Tag = bf.tag
	}
	for _, b := range builds {
		req.Platforms = append(req.Platforms, engine.Platform{Request: b.req.Request, Lock: b.req.Lock})
	}
	return req
}

func (g *globals) specBuild(c *cobra.Command, s *spec.Spec, sf *specFlags, bf *buildFlags, arch, lockPath string) (specBuild, error) {
	base, err := s.BuildRequest(arch)
	if err != nil {
		return specBuild{}, usageError{err}
	}
	saved := *bf
	defer func() { *bf = saved }()
	f := c.Flags()
	fillRequestFlags(c, &bf.requestFlags, base.Request, arch)
	if !f.Changed("output") {
		bf.outputs = base.Outputs
	}
	if !f.Changed("tag") {
		bf.tag = base.Tag
	}
	if !f.Changed("trim") && base.Trim != "" {
		bf.trim = base.Trim
	}
	if !f.Changed("layering") && base.Layering != "" {
		bf.layering = base.Layering
	}
	if !f.Changed("scripts") {
		bf.scripts = base.Scripts
	}
	if !f.Changed("workdir") {
		bf.workdir = base.WorkingDir
	}
	req, err := bf.buildRequest()
	if err != nil {
		return specBuild{}, err
	}
	req.Request.Sources = append(append([]repo.Source(nil), base.Request.Sources...), req.Request.Sources...)
	req.Users = append(append([]string(nil), base.Users...), req.Users...)
	req.Env = append(append([]string(nil), base.Env...), req.Env...)
	if !f.Changed("cmd") {
		req.Cmd = base.Cmd
	}
	if !f.Changed("entrypoint") {
		req.Entrypoint = base.Entrypoint
	}
	if !f.Changed("user") {
		req.User = base.User
	}
	labels := map[string]string{}
	for k, v := range base.Labels {
		labels[k] = v
	}
	for k, v := range req.Labels {
		labels[k] = v
	}
	req.Labels, req.Annotations = labels, base.Annotations
	b := specBuild{req: req, lockPath: lockPath, check: s.Check}
	if sf.check != "" {
		b.check = sf.check
	}
	lock, err := repo.ReadLock(b.lockPath)
	switch {
	case errors.Is(err, fs.ErrNotExist) || sf.update:
		b.writeLock = true
	case err != nil:
		return specBuild{}, fmt.Errorf("%w (remove it, or rewrite it with rootfsd build -f %s --update)", err, sf.file)
	default:
		if diff := requestChanges(lock.Request, req.Request); len(diff) > 0 {
			return specBuild{}, usageError{fmt.Errorf("%s is out of date with %s: %s; run rootfsd lock -f %s, or build with --update",
				filepath.Base(b.lockPath), filepath.Base(s.File()), strings.Join(diff, "; "), sf.file)}
		}
		b.req.Lock = lock
	}
	return b, nil
}

// runSpecBuilds builds each architecture of build -f, writing locks beside
// the spec when the build resolved.
func (g *globals) runSpecBuilds(ctx context.Context, builds []specBuild, print func(*engine.BuildResult) error) error {
	for _, b := range builds {
		if err := g.enterUserNamespace(ctx, b.req); err != nil {
			return err
		}
	}
	for _, b := range builds {
		b.req.TreeCheck = g.treeCheck(b.req, b.check) // check.go
		res, err := g.service().Build(ctx, b.req, g.reporter())
		if err != nil {
			return err
		}
		if b.writeLock && res.Lock != nil {
			if err := repo.WriteLock(b.lockPath, res.Lock); err != nil {
				return err
			}
			if !g.quiet {
				fmt.Fprintf(g.stderr, "wrote %s: %d packages, digest %s\n", b.lockPath, len(res.Lock.Packages), res.Lock.Digest()[:12])
			}
		}
		if err := g.postBuildCheck(ctx, b.req, res, b.check); err != nil {
			return err
		}
		if err := print(res); err != nil {
			return err
		}
	}
	return nil
}

// buildFromSpec is build -f (and --add): see specBuilds.
func (g *globals) buildFromSpec(c *cobra.Command, sf *specFlags, bf *buildFlags) error {
	if sf.file == "" {
		ov := &overlay.Overlay{}
		for _, a := range sf.adds {
			f, err := spec.Add(a)
			if err != nil {
				return usageError{err}
			}
			ov.Files = append(ov.Files, f)
		}
		if err := ov.Check(); err != nil {
			return usageError{err}
		}
		req, err := bf.buildRequest()
		if err != nil {
			return err
		}
		req.Overlay = ov
		return g.runSpecBuilds(c.Context(), []specBuild{{req: req, check: sf.check}}, g.printBuildResult)
	}
	if err := g.checkFormat(); err != nil {
		return err
	}
	builds, s, err := g.specBuilds(c, sf, bf)
	if err != nil {
		return err
	}
	if len(builds) > 1 {
		return g.runPlatformBuild(c.Context(), mergePlatforms(c, s, bf, builds), builds)
	}
	return g.runSpecBuilds(c.Context(), builds, g.printBuildResult)
}

// runPlatformBuild builds a spec's architectures at once, writing the
// locks that were resolved beside the spec.
func (g *globals) runPlatformBuild(ctx context.Context, req engine.BuildRequest, builds []specBuild) error {
	if err := g.enterUserNamespace(ctx, req); err != nil {
		return err
	}
	res, err := g.service().Build(ctx, req, g.reporter())
	if err != nil {
		return err
	}
	for i, b := range builds {
		if !b.writeLock || i >= len(res.Platforms) {
			continue
		}
		l := res.Platforms[i].Lock
		if err := repo.WriteLock(b.lockPath, l); err != nil {
			return err
		}
		if !g.quiet {
			fmt.Fprintf(g.stderr, "wrote %s: %d packages, digest %s\n", b.lockPath, len(l.Packages), l.Digest()[:12])
		}
	}
	if err := g.postBuildCheck(ctx, req, res, builds[0].check); err != nil {
		return err
	}
	return g.printBuildResult(res)
}

// printBuildResult prints a build as build does.
func (g *globals) printBuildResult(res *engine.BuildResult) error {
	for _, w := range res.Warnings {
		fmt.Fprintf(g.stderr, "warning: %s\n", w)
	}
	if g.format == "json" {
		return writeJSON(g.stdout, res)
	}
	if g.quiet {
		return nil
	}
	g.printBuilt(res)
	return nil
}
