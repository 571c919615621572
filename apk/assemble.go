package apk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/rootfsd/rootfsd/repo"
	"github.com/rootfsd/rootfsd/repo/fstree"
)

// errControlRead stops readPackage once the control member is verified.
var errControlRead = errors.New("control member read")

// ReadControl verifies the signature and control member of an .apk (C: and
// name against want) and parses .PKGINFO and the scripts, without reading
// the data member: the cheap first look Assemble takes at each package.
func ReadControl(ctx context.Context, r io.Reader, keys *Keyring, want Expect, lim Limits) (*PackageFile, error) {
	var pf *PackageFile
	_, err := readPackage(ctx, r, keys, want, lim, func(p *PackageFile) error {
		pf = p
		return errControlRead
	}, nil)
	if pf != nil && errors.Is(err, errControlRead) {
		return pf, nil
	}
	return nil, err
}

// PackageFromFile rebuilds a package's index record from its verified
// file, as `apk index` does: the fields come from .PKGINFO, C: from the
// control member, S: is the file size; "noarch" becomes the repository's
// architecture. For every fixture package this equals the upstream index
// record.
func PackageFromFile(pf *PackageFile, arch string, size int64) *Package {
	info := pf.Info
	a := info.Arch
	if a == "noarch" || a == "" {
		a = arch
	}
	return &Package{
		Checksum: pf.Checksum, Name: info.Name, Version: info.Version, Arch: a, Size: size,
		InstalledSize: info.Size, Description: info.Description, URL: info.URL, License: info.License,
		Origin: info.Origin, Maintainer: info.Maintainer, BuildTime: info.BuildDate, Commit: info.Commit,
		ProviderPriority: info.ProviderPriority, Depends: info.Depends, Provides: info.Provides, InstallIf: info.InstallIf,
	}
}

// AssembleOptions configure Assemble.
type AssembleOptions struct {
	// Keys verify the packages; nil is DefaultKeyring(plan.Arch).
	Keys   *Keyring
	Limits Limits
	// World is what was asked for (etc/apk/world); nil derives it from the
	// plan: the packages whose reason is "requested" or "variant base".
	World []Dep
	// Repositories are written to etc/apk/repositories when not empty.
	Repositories []string
	// Epoch is the mtime of the files Assemble writes.
	Epoch  time.Time
	Report repo.Reporter
}

// AssembleResult says what Assemble did.
type AssembleResult struct {
	Installed []*Installed // in install order
	// Warnings name the maintainer scripts that were not run.
	Warnings []string
}

// Assemble installs a plan (or a lock's plan, whose packages are sorted by
// name) into t: it verifies each package's control member, rebuilds the
// index records from them, orders the packages as apk-tools installs them
// (by resolving the world over exactly the planned packages), installs them
// with full verification and writes apk's database. open returns a
// package file of the plan.
func Assemble(ctx context.Context, t *fstree.Tree, plan *repo.Plan, open func(repo.Planned) (io.ReadCloser, error), opts AssembleOptions) (*AssembleResult, error) {
	keys := opts.Keys
	if keys == nil {
		k, err := DefaultKeyring(plan.Arch)
		if err != nil {
			return nil, err
		}
		keys = k
	}
	pkgs := make([]Package, len(plan.Packages))
	tags := map[string]string{} // checksum -> repository tag
	for i, p := range plan.Packages {
		pf, err := readPlanned(ctx, open, p, keys, opts.Limits, true)
		if err != nil {
			return nil, err
		}
		pkgs[i] = *PackageFromFile(pf, plan.Arch, p.Size)
		if tag, _, ok := strings.Cut(p.Suite, " "); ok && strings.HasPrefix(tag, "@") {
			tags[pf.Checksum] = tag[1:]
		}
	}
	world := opts.World
	if world == nil {
		for _, p := range plan.Packages {
			if p.Reason == "requested" || p.Reason == "variant base" {
				world = append(world, Dep{Name: p.Name, Op: OpAny})
			}
		}
		sort.Slice(world, func(i, j int) bool { return world[i].Name < world[j].Name })
	}
	order, err := installOrder(pkgs, world, plan.Arch)
	if err != nil {
		return nil, err
	}
	in := NewInstaller(t, keys, opts.Limits)
	in.Reporter = opts.Report
	for _, pkg := range order {
		var planned repo.Planned
		for _, p := range plan.Packages {
			if p.Checksum == pkg.Checksum {
				planned = p
			}
		}
		rc, err := open(planned)
		if err != nil {
			return nil, fmt.Errorf("apk: %s: %w", pkg.ID(), err)
		}
		_, err = in.Install(ctx, pkg, tags[pkg.Checksum], rc)
		rc.Close()
		if err != nil {
			return nil, err
		}
	}
	err = in.Finish(ctx, FinishOptions{World: world, Arch: plan.Arch, Repositories: opts.Repositories, ModTime: opts.Epoch})
	if err != nil {
		return nil, err
	}
	if err := ensureOSRelease(t, plan.Distro, opts.Epoch); err != nil { // osrelease.go
		return nil, err
	}
	return &AssembleResult{Installed: in.Installed(), Warnings: in.NotRun()}, nil
}

// readPlanned opens a planned package and reads its control member (or,
// with control false, verifies all of it).
func readPlanned(ctx context.Context, open func(repo.Planned) (io.ReadCloser, error), p repo.Planned, keys *Keyring, lim Limits, control bool) (*PackageFile, error) {
	rc, err := open(p)
	if err != nil {
		return nil, fmt.Errorf("apk: %s-%s: %w", p.Name, p.Version, err)
	}
	defer rc.Close()
	want := Expect{Checksum: p.Checksum, Size: p.Size, Name: p.Name, Version: p.Version}
	if p.Checksum == "" {
		return nil, fmt.Errorf("apk: %s-%s: the plan has no checksum to verify it with", p.Name, p.Version)
	}
	if control {
		return ReadControl(ctx, rc, keys, want, lim)
	}
	return VerifyPackage(ctx, rc, keys, want, lim)
}

// installOrder resolves world over exactly pkgs and returns them in apk's
// install order; the result must be the whole set.
func installOrder(pkgs []Package, world []Dep, arch string) ([]*Package, error) {
	r, err := NewResolver([]*Repository{{URL: "plan", Arch: arch, Name: "plan", Index: &Index{Packages: pkgs}}})
	if err != nil {
		return nil, err
	}
	var goals []Goal
	for _, d := range world {
		d.Tag = "" // the plan's packages are all in one untagged repository
		goals = append(goals, Goal{Dep: d, Reason: "requested"})
	}
	sol, err := r.Resolve(goals)
	if err != nil {
		return nil, fmt.Errorf("apk: ordering the plan: %w", err)
	}
	seen := map[string]bool{}
	out := make([]*Package, 0, len(pkgs))
	for _, p := range sol.Packages {
		seen[p.Package.Checksum] = true
		out = append(out, p.Package)
	}
	// Packages the world does not reach (a plan edited by hand) go last.
	for i := range pkgs {
		if !seen[pkgs[i].Checksum] {
			out = append(out, &pkgs[i])
		}
	}
	if len(out) != len(pkgs) {
		return nil, fmt.Errorf("apk: ordering the plan: %d packages resolve to %d", len(pkgs), len(out))
	}
	return out, nil
}
