package deb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/rootfsd/rootfsd/repo"
	"github.com/rootfsd/rootfsd/repo/fstree"
)

// AssembleOptions control Assemble. The zero value is rootfsd build's
// default: trim profile "docs", no maintainer scripts run, no extra users.
type AssembleOptions struct {
	// Trim is the trim profile: "none", "docs" or "minimal" (see
	// trim.go). Empty means "docs", the default: documentation, man and
	// info pages and translations go, copyright files stay.
	Trim string
	// Scripts runs the real maintainer scripts of packages that have no
	// built-in equivalent, in a rootless sandbox (see scripts.go). Off by
	// default: such packages are named in Assembled.Uncovered instead.
	Scripts bool
	// Users are --user accounts, "NAME" or "NAME:UID", added to
	// /etc/passwd, /etc/group and /etc/shadow with a home directory.
	Users []string
	// Epoch is SOURCE_DATE_EPOCH: the mtime of every generated file. The
	// zero value is the Unix epoch.
	Epoch time.Time
	// Report receives unpack, configure and warning events.
	Report repo.Reporter
	// XZCommand is passed to Unpack (UnpackOptions.XZCommand).
	XZCommand string
	// Limits bound each package; zero fields take Unpack's defaults.
	Limits UnpackLimits
	// DataCache, when set, keeps each package's decoded data.tar, keyed
	// by the package's SHA256, so that a later assembly with the same
	// package reads it instead of decompressing it again (see
	// assemble_datacache.go). nil decodes every time.
	DataCache repo.Cache
}

// Assembled is what Assemble did besides filling the tree.
type Assembled struct {
	// Warnings are everything the build should show the user: skipped
	// scripts, diversions, shadowed files.
	Warnings []string
	// Uncovered names the packages (name=version) whose maintainer scripts
	// were neither covered by a built-in nor run. Their files are
	// installed and dpkg records them as installed, but whatever their
	// scripts would have done is missing: the output's metadata lists them.
	Uncovered []string
	// Ran names the packages whose real maintainer scripts ran in the
	// sandbox (AssembleOptions.Scripts).
	Ran []string
	// Order is the configure order, package names; base-files is
	// unpacked first, the others in this order.
	Order []string
}

// ErrAssemble is wrapped by errors about the package set as a whole: a
// plan of another format, a file two packages ship without Replaces.
var ErrAssemble = errors.New("cannot assemble")

// Assemble installs every package of plan into t the way dpkg would, without
// running package code: it reads each .deb through open, unpacks it (in an
// order where a package comes after those it Replaces and, where possible,
// after its dependencies), writes dpkg's database (var/lib/dpkg/status,
// info/*.list, *.md5sums, *.conffiles, the maintainer scripts, arch,
// diversions, triggers), then does what the packages' maintainer scripts
// would do through built-in equivalents (see configure.go), trims the tree
// as opt.Trim says and records the trim rules for dpkg inside the image.
//
// Everything it writes is owned by root with the modes the packages or the
// original tools give, and stamped with opt.Epoch, so the same plan and
// options give the same tree. On error t is left half-built: callers throw
// it away.
//
// Decisions where dpkg leaves room:
//   - Conffiles are installed as shipped; the status records the md5 of
//     the shipped file, as dpkg does, so that configure steps editing one
//     make it a locally modified conffile for later upgrades, as on a real
//     system.
//   - Diversions that built-ins stand in for (base-files' and libc6's
//     DEP17 diversions, dash's /bin/sh) are recorded in
//     var/lib/dpkg/diversions. A later package shipping a diverted path is
//     not redirected: it is named in a warning. An uncovered script that
//     calls dpkg-divert is named in its warning.
//   - /etc/os-release is what base-files ships. Without base-files a
//     minimal /usr/lib/os-release (and the /etc link) names the release,
//     so that scanners identify the image.
//   - Without base-passwd, minimal /etc/passwd, /etc/group and /etc/shadow
//     hold root and nobody; system accounts the scripts need (mail, utmp)
//     are added with base-passwd's fixed ids.
func Assemble(ctx context.Context, t *fstree.Tree, plan *repo.Plan, open func(repo.Planned) (io.ReadCloser, error), opt AssembleOptions) (*Assembled, error) {
	if plan.Family != "" && plan.Family != repo.FamilyDeb {
		return nil, fmt.Errorf("deb: assemble: %w: the plan is for %s packages", ErrAssemble, plan.Family)
	}
	trim, err := trimRules(opt.Trim)
	if err != nil {
		return nil, fmt.Errorf("deb: assemble: %w", err)
	}
	users, err := parseUsers(opt.Users)
	if err != nil {
		return nil, fmt.Errorf("deb: assemble: %w", err)
	}
	a := &assembler{ctx: ctx, t: t, plan: plan, opt: opt, trim: trim, users: users,
		arch: plan.Arch, out: &Assembled{}, byName: map[string]*instPkg{}}
	if a.arch == "" {
		a.arch = "amd64"
	}
	if err := a.run(open); err != nil {
		return nil, fmt.Errorf("deb: assemble %s: %w", plan.Distro, err)
	}
	return a.out, nil
}

// assembler carries one Assemble call.
type assembler struct {
	ctx   context.Context
	t     *fstree.Tree
	plan  *repo.Plan
	opt   AssembleOptions
	trim  []filterRule
	users []userSpec
	arch  string
	out   *Assembled

	pkgs   []*instPkg // configure order
	byName map[string]*instPkg
	divs   diversions
	alts   *altDB
	conf   *debconfDB
	zstd   chan *zstd.Decoder // decoders the prefetchers share
}

func (a *assembler) run(open func(repo.Planned) (io.ReadCloser, error)) error {
	if err := a.readControls(open); err != nil {
		return err
	}
	a.order()
	for _, p := range a.pkgs {
		a.out.Order = append(a.out.Order, p.name)
	}
	if err := a.prepare(); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(a.ctx)
	defer cancel()
	unpack := a.unpackOrder()
	ahead, take := a.prefetch(ctx, unpack, open)
	defer a.closeDecoders()
	for i, p := range unpack {
		if err := a.ctx.Err(); err != nil {
			return err
		}
		if err := a.preinst(p); err != nil {
			return err
		}
		d := <-ahead[i]
		take(i)
		src := open
		if d.deb != nil {
			m := newMemDeb(d.deb)
			if d.dataFile != nil && a.t.Retain(d.dataFile, verifyFile(d.dataDigest)) == nil {
				m.dataFile, m.dataAt, m.dataSize = d.dataFile, d.dataAt, d.dataSize // the tree closes it
			} else if d.dataFile != nil {
				d.dataFile.Close()
			}
			src = func(repo.Planned) (io.ReadCloser, error) { return m, nil }
		}
		if err := a.unpack(p, src); err != nil {
			return err
		}
	}
	if err := a.applyTrim(); err != nil {
		return err
	}
	if err := a.writeInfo(); err != nil {
		return err
	}
	// Without base-passwd, minimal account files before anything is
	// configured, as base-passwd's preinst would have written them.
	if err := a.ensureAccounts(); err != nil {
		return err
	}
	if err := a.configure(); err != nil {
		return err
	}
	if err := a.finish(); err != nil {
		return err
	}
	return a.writeStatus()
}

// unpack puts one package into the tree. Files of other packages may only
// be replaced when this package Replaces them; anything else is refused
// with an error naming both packages, as dpkg does.
func (a *assembler) unpack(p *instPkg, open func(repo.Planned) (io.ReadCloser, error)) error {
	rc, err := open(p.planned)
	if err != nil {
		return fmt.Errorf("open %s: %w", p.planned.ID(), err)
	}
	defer rc.Close()
	uopt := UnpackOptions{
		Limits:    a.opt.Limits,
		XZCommand: a.opt.XZCommand,
		Report:    a.opt.Report,
		Replace: func(path, owner string) error {
			if a.divs.divertedFor("/"+path, p.name) != "" {
				return nil // reported below; dpkg would have diverted it
			}
			if q := a.byOwner(owner); q != nil && p.replaces(q) {
				return nil
			}
			return fmt.Errorf("%w: %s does not declare Replaces: %s", ErrAssemble, p.name, owner)
		},
	}
	u, err := Unpack(a.ctx, rc, p.infoName, a.t, uopt)
	if err != nil {
		return err
	}
	p.unpacked = u
	a.hashConffiles(p)
	// dpkg drops a replaced file from the list of the package it came from.
	for _, rep := range u.Replaced {
		if q := a.byOwner(rep.Owner); q != nil && q.unpacked != nil {
			q.unpacked.Paths = slices.DeleteFunc(q.unpacked.Paths, func(s string) bool { return s == "/"+rep.Path })
		}
	}
	for _, path := range u.Paths {
		if by := a.divs.divertedFor(path, p.name); by != "" {
			a.warn(p.name, fmt.Sprintf("%s ships %s, which %s diverts; rootfsd does not apply diversions to later packages, the file is at its original path", p.name, path, by))
		}
	}
	return nil
}

// byOwner finds the package of an owner tag (its info name).
func (a *assembler) byOwner(owner string) *instPkg {
	name, _, _ := strings.Cut(owner, ":")
	return a.byName[name]
}

// warn records a warning and reports it.
func (a *assembler) warn(name, msg string) {
	a.out.Warnings = append(a.out.Warnings, msg)
	a.opt.Report.Report(repo.Event{Kind: repo.EventWarning, Name: name, Message: msg})
}

// attr is the metadata of a generated file: root-owned, mtime Epoch.
func (a *assembler) attr(mode uint32) fstree.Attr {
	return fstree.Attr{Mode: mode, Uname: "root", Gname: "root", ModTime: a.epoch()}
}

func (a *assembler) epoch() time.Time {
	if a.opt.Epoch.IsZero() {
		return time.Unix(0, 0).UTC()
	}
	return a.opt.Epoch
}

// has reports whether a package of the plan is called name.
func (a *assembler) has(name string) bool { return a.byName[name] != nil }

// finish does what every tree needs whatever the packages: /tmp, accounts,
// --user, os-release, the trim rules for dpkg.
func (a *assembler) finish() error {
	if _, err := a.t.Lookup("tmp"); err != nil {
		if err := a.t.MkdirAll("tmp", a.attr(0o1777)); err != nil {
			return err
		}
	}
	if err := a.addUsers(); err != nil {
		return err
	}
	if err := a.ensureOSRelease(); err != nil {
		return err
	}
	return a.writeTrimConfig()
}
