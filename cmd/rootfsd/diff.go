package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/rootfsd/rootfsd/apk"
	"github.com/rootfsd/rootfsd/deb"
	"github.com/rootfsd/rootfsd/repo"
	"github.com/rootfsd/rootfsd/repo/check"
	"github.com/rootfsd/rootfsd/repo/lockdiff"
)

type diffFlags struct {
	noFiles  bool
	exitCode bool
}

func newDiffCmd(g *globals) *cobra.Command {
	var df diffFlags
	c := &cobra.Command{
		Use:   "diff A B",
		Short: "Show the packages and files that differ between two locks or images",
		Long: `diff compares two builds. Each side is a lockfile, a directory, a rootfs tar
or an image (OCI layout, oci-archive, docker-archive).

Packages: added, removed, upgraded, downgraded (by the release's version
ordering), or rebuilt (same version, different file or hash). For a lock the
package set is the lock's; for a tree or image it is what the tree's own
package database (dpkg's status, apk's installed) records. Two locks also show
request and index changes (a moved security pocket shows as its new date).

Files (two trees or images, not locks): added, removed, and modified with
what changed: content, mode, owner, link target, type.

Exit status: 0, or with --exit-code 1 when the two differ.`,
		Example: `  rootfsd diff old.lock rootfs.lock
  rootfsd diff image-v1.tar image-v2.tar
  rootfsd diff rootfs.lock rootfs/ --no-files
  rootfsd diff a.lock b.lock --format json`,
		Args: cobra.ExactArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			if err := g.checkFormat(); err != nil {
				return err
			}
			r, err := diffTargets(c.Context(), args[0], args[1], !df.noFiles)
			if err != nil {
				return err
			}
			if err := g.printDiff(args[0], args[1], r); err != nil {
				return err
			}
			if df.exitCode && !r.Empty() {
				return fmt.Errorf("%s and %s differ", args[0], args[1])
			}
			return nil
		},
	}
	c.Flags().BoolVar(&df.noFiles, "no-files", false, "compare packages only")
	c.Flags().BoolVar(&df.exitCode, "exit-code", false, "exit 1 when the two differ, as diff(1) does")
	return c
}

// side is one argument of diff: a lock, or a tree.
type side struct {
	lock   *repo.Lock
	target *check.Target
	family repo.Family
}

func (s *side) close() {
	if s.target != nil {
		s.target.Close()
	}
}

func (s *side) packages(ctx context.Context) []repo.Planned {
	if s.lock != nil {
		return s.lock.Packages
	}
	return check.Installed(ctx, s.target.FS)
}

// openSide reads a lock when the file is one, else loads a tree.
func openSide(ctx context.Context, p string) (*side, error) {
	if data, err := os.ReadFile(p); err == nil && bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) {
		l, err := repo.ParseLock(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		return &side{lock: l, family: l.Family}, nil
	}
	tg, err := check.Load(ctx, p, check.LoadOptions{Decompress: zstdReader})
	if err != nil {
		return nil, err
	}
	s := &side{target: tg}
	if d, err := repo.LookupDistro(check.Distro(tg.FS)); err == nil {
		s.family = d.Family
	}
	return s, nil
}

func diffTargets(ctx context.Context, a, b string, files bool) (*lockdiff.Result, error) {
	sa, err := openSide(ctx, a)
	if err != nil {
		return nil, err
	}
	defer sa.close()
	sb, err := openSide(ctx, b)
	if err != nil {
		return nil, err
	}
	defer sb.close()
	family := sa.family
	if family == "" {
		family = sb.family
	}
	opts := lockdiff.Options{Compare: versionOrder(family)}
	var r *lockdiff.Result
	if sa.lock != nil && sb.lock != nil {
		r = lockdiff.Locks(sa.lock, sb.lock, opts)
	} else {
		r = &lockdiff.Result{Packages: lockdiff.Packages(sa.packages(ctx), sb.packages(ctx), opts)}
	}
	if files && sa.target != nil && sb.target != nil {
		if r.Files, err = lockdiff.Trees(ctx, sa.target.FS, sb.target.FS); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// versionOrder is the family's version comparison.
func versionOrder(f repo.Family) func(a, b string) int {
	switch f {
	case repo.FamilyDeb:
		return deb.CompareVersions
	case repo.FamilyAPK:
		return apk.CompareVersions
	}
	return nil
}

func (g *globals) printDiff(a, b string, r *lockdiff.Result) error {
	if g.format == "json" {
		if r.Packages == nil {
			r.Packages = []lockdiff.Change{}
		}
		return writeJSON(g.stdout, r)
	}
	w := g.stdout
	if r.Empty() {
		if !g.quiet {
			fmt.Fprintf(w, "%s and %s do not differ\n", a, b)
		}
		return nil
	}
	for _, f := range r.Fields {
		fmt.Fprintf(w, "%s: %s -> %s\n", f.Name, orNone(f.From), orNone(f.To))
	}
	if len(r.Packages) > 0 {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "PACKAGE\tCHANGE\tFROM\tTO\tSUITE")
		for _, p := range r.Packages {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p.Name, p.Kind, orDash(p.From), orDash(p.To), orDash(p.Suite))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(r.Files) > 0 {
		fmt.Fprintln(w)
		for _, f := range r.Files {
			mark := map[lockdiff.ChangeKind]string{lockdiff.Added: "+", lockdiff.Removed: "-", lockdiff.Modified: "~"}[f.Kind]
			line := mark + " " + f.Path
			if len(f.What) > 0 {
				line += "  (" + strings.Join(f.What, ", ") + ")"
			}
			fmt.Fprintln(w, line)
		}
	}
	if !g.quiet {
		counts := map[lockdiff.ChangeKind]int{}
		for _, p := range r.Packages {
			counts[p.Kind]++
		}
		var parts []string
		for _, k := range []lockdiff.ChangeKind{lockdiff.Added, lockdiff.Removed, lockdiff.Upgraded, lockdiff.Downgraded, lockdiff.Rebuilt, lockdiff.Changed} {
			if counts[k] > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", counts[k], k))
			}
		}
		if len(parts) == 0 {
			parts = append(parts, "no package changes")
		}
		summary := "packages: " + strings.Join(parts, ", ")
		if len(r.Files) > 0 {
			summary += fmt.Sprintf("; files: %d differ", len(r.Files))
		}
		fmt.Fprintln(w, summary)
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
