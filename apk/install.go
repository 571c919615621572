package apk

import (
	"archive/tar"
	"context"
	"fmt"
	"io"

	"github.com/rootfsd/rootfsd/repo"
	"github.com/rootfsd/rootfsd/repo/fstree"
)

// Installer unpacks verified packages into a tree, in install order, and
// keeps the state apk-tools would: which package owns which file, the
// scripts, the triggers. Finish runs the built-in equivalents of the
// maintainer scripts and writes lib/apk/db and etc/apk.
//
// Paths are owned by archive name, as in apk-tools' database: a package
// may overwrite another's file only when both come from the same origin or
// one replaces the other (the higher replaces_priority keeps the file).
type Installer struct {
	Tree     *fstree.Tree
	Keys     *Keyring
	Limits   Limits
	Reporter repo.Reporter

	pkgs  []*Installed
	files map[string]*Installed
	unrun []string
}

// NewInstaller returns an Installer writing into tree.
func NewInstaller(tree *fstree.Tree, keys *Keyring, lim Limits) *Installer {
	return &Installer{Tree: tree, Keys: keys, Limits: lim, files: map[string]*Installed{}}
}

// Installed returns the installed packages in install order.
func (in *Installer) Installed() []*Installed { return in.pkgs }

// NotRun lists the maintainer scripts that have no built-in equivalent and
// were therefore not run ("openrc-0.52.1-r2 post-install").
func (in *Installer) NotRun() []string { return in.unrun }

// Install verifies the package file r against its index record pkg and
// unpacks it: pre-install equivalent, data, post-install equivalent. On
// error the tree is left as it was.
func (in *Installer) Install(ctx context.Context, pkg *Package, tag string, r io.Reader) (*Installed, error) {
	ip := &Installed{Package: pkg, Tag: tag}
	x := in.Tree.Begin()
	defer x.Rollback()
	skipped := map[string]bool{}
	taken := map[string]*Installed{} // paths this package took from others
	seen := map[string]bool{}        // entrypolicy.go
	want := Expect{Checksum: pkg.Checksum, Size: pkg.Size, Name: pkg.Name, Version: pkg.Version}
	onControl := func(pf *PackageFile) error {
		ip.File = pf
		return in.builtin(ip, "pre-install")
	}
	pf, err := readPackage(ctx, r, in.Keys, want, in.Limits, onControl, func(hdr *tar.Header, body io.Reader) error {
		if err := entryPolicy(seen, hdr); err != nil {
			return err
		}
		if hdr.Typeflag != tar.TypeDir {
			if old := in.files[hdr.Name]; old != nil && old != ip {
				ok, err := overwrites(ip, old, hdr.Name)
				if err != nil {
					return err
				}
				if !ok {
					skipped[hdr.Name] = true
					return nil
				}
				taken[hdr.Name] = old
			}
		}
		_, err := in.Tree.Add(hdr, body, pkg.Name)
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(skipped) > 0 {
		kept := pf.Entries[:0]
		for _, e := range pf.Entries {
			if !skipped[e.Header.Name] {
				kept = append(kept, e)
			}
		}
		pf.Entries = kept
	}
	if _, err := dbDirs(pf.Entries); err != nil { // what the database could not record
		return nil, fmt.Errorf("apk: %s: %w", pkg.ID(), err)
	}
	if err := in.builtin(ip, "post-install"); err != nil {
		return nil, fmt.Errorf("apk: %s: %w", pkg.ID(), err)
	}
	x.Commit()
	for name, old := range taken {
		old.File.Entries = dropEntry(old.File.Entries, name)
	}
	for _, e := range pf.Entries {
		if e.Header.Typeflag != tar.TypeDir {
			in.files[e.Header.Name] = ip
		}
	}
	in.pkgs = append(in.pkgs, ip)
	in.Reporter.Report(repo.Event{Kind: repo.EventUnpack, Name: pkg.ID(), Current: int64(len(in.pkgs))})
	return ip, nil
}

func dropEntry(entries []Entry, name string) []Entry {
	out := entries[:0]
	for _, e := range entries {
		if e.Header.Name != name {
			out = append(out, e)
		}
	}
	return out
}

// overwrites decides, as apk-tools' apk_db_install_archive_entry does,
// whether ip may overwrite a file old installed: yes within one origin or
// when ip replaces old; the file stays old's (and ip's copy is skipped)
// when old replaces ip with a higher priority; anything else is an error.
func overwrites(ip, old *Installed, name string) (bool, error) {
	if old.Package.Name == ip.Package.Name || (ip.Package.Origin != "" && old.Package.Origin == ip.Package.Origin) {
		return true, nil
	}
	prio := func(by, of *Installed) int {
		for _, d := range by.File.Info.Replaces {
			if materialises(d, of.Package) {
				return by.File.Info.ReplacesPriority
			}
		}
		return -1
	}
	oldPrio, newPrio := prio(old, ip), prio(ip, old)
	switch {
	case oldPrio > newPrio:
		return false, nil
	case newPrio >= 0:
		return true, nil
	}
	return false, fmt.Errorf("trying to overwrite %s owned by %s", name, old.Package.ID())
}

// materialises reports whether package p is the one d names
// (apk_dep_is_materialized).
func materialises(d Dep, p *Package) bool {
	if d.Name != p.Name {
		return d.Conflict
	}
	var ok bool
	switch d.Op {
	case OpAny, 0:
		ok = true
	case OpChecksum:
		ok = d.Version == p.Checksum
	default:
		ok = d.MatchVersion(p.Version)
	}
	return ok != d.Conflict
}
