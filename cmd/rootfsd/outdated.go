package main

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/rootfsd/rootfsd/repo"
)

// Outdated is one locked package the archive has a newer version of.
type Outdated struct {
	Name      string `json:"name"`
	Arch      string `json:"arch"`
	Locked    string `json:"locked"`
	Available string `json:"available"`
	Suite     string `json:"suite"`
	// Security is set when the newer version comes from a security pocket.
	Security bool `json:"security,omitempty"`
	// Pinned is set when the request pins the package (name=version).
	Pinned bool `json:"pinned,omitempty"`
}

// OutdatedReport is outdated's answer for one lock.
type OutdatedReport struct {
	Lock     string     `json:"lock"`
	Outdated []Outdated `json:"outdated"`
	// Added and Removed are packages a fresh resolve adds or drops.
	Added   []string `json:"added,omitempty"`
	Removed []string `json:"removed,omitempty"`
}

func newOutdatedCmd(g *globals) *cobra.Command {
	var file, lockPath string
	var exitCode bool
	c := &cobra.Command{
		Use:   "outdated",
		Short: "List locked packages that have newer versions, security updates first",
		Long: `outdated resolves the lock's request again against the archive as it is now
(pins lifted) and lists every locked package with a newer candidate, those from
a security pocket first. It changes nothing: rootfsd lock (or build -f
--update) takes the new versions.

It reads the locks beside a spec (-f), a lock (--lock), or ./rootfs.lock.

Exit status: 0, or with --exit-code 1 when something is outdated.`,
		Example: `  rootfsd outdated
  rootfsd outdated -f rootfs.yaml
  rootfsd outdated --lock curl.lock --format json
  rootfsd outdated --exit-code --quiet   # in CI: fail when updates wait`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := g.checkFormat(); err != nil {
				return err
			}
			locks, err := outdatedLocks(file, lockPath)
			if err != nil {
				return err
			}
			var reports []OutdatedReport
			n := 0
			for _, p := range locks {
				r, err := g.outdated(c.Context(), p)
				if err != nil {
					return err
				}
				reports = append(reports, *r)
				n += len(r.Outdated)
			}
			if err := g.printOutdated(reports); err != nil {
				return err
			}
			if exitCode && n > 0 {
				return fmt.Errorf("%d packages are outdated", n)
			}
			return nil
		},
	}
	c.Flags().StringVarP(&file, "file", "f", "", "check the locks beside this spec file")
	c.Flags().StringVar(&lockPath, "lock", "", "check this lockfile (default ./rootfs.lock)")
	c.Flags().BoolVar(&exitCode, "exit-code", false, "exit 1 when a package is outdated")
	return c
}

// outdatedLocks are the lockfiles to look at.
func outdatedLocks(file, lockPath string) ([]string, error) {
	switch {
	case file != "" && lockPath != "":
		return nil, usageError{fmt.Errorf("give -f or --lock, not both")}
	case lockPath != "":
		return []string{lockPath}, nil
	case file != "":
		s, err := loadSpecFile(file)
		if err != nil {
			return nil, err
		}
		var out []string
		for _, a := range s.Arches() {
			p := s.LockPath(a)
			if _, err := os.Stat(p); err != nil {
				return nil, fmt.Errorf("%s has no lock yet (%s): run rootfsd lock -f %s", file, p, file)
			}
			out = append(out, p)
		}
		return out, nil
	}
	if _, err := os.Stat("rootfs.lock"); err != nil {
		return nil, usageError{fmt.Errorf("no rootfs.lock here: give --lock FILE or -f SPEC")}
	}
	return []string{"rootfs.lock"}, nil
}

func (g *globals) outdated(ctx context.Context, path string) (*OutdatedReport, error) {
	l, err := repo.ReadLock(path)
	if err != nil {
		return nil, err
	}
	d, err := repo.LookupDistro(l.Distro)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	req := l.Request
	pinned := map[string]bool{}
	req.Packages = nil
	for _, p := range l.Request.Packages {
		name, _, hasVersion := strings.Cut(p, "=")
		name, _, hasSuite := strings.Cut(name, "/")
		pinned[name] = hasVersion || hasSuite
		req.Packages = append(req.Packages, name)
	}
	fresh, err := g.service().Resolve(ctx, req, g.reporter())
	if err != nil {
		return nil, fmt.Errorf("%s: resolve %s again: %w", path, l.Distro, err)
	}
	security := map[string]bool{}
	for _, p := range d.Pockets {
		security[p.Suite] = p.Security
	}
	cmp := versionOrder(l.Family)
	r := &OutdatedReport{Lock: path, Outdated: []Outdated{}}
	now := map[string]repo.Planned{}
	for _, p := range fresh.Packages {
		now[p.Name+"/"+p.Arch] = p
	}
	for _, p := range l.Packages {
		q, ok := now[p.Name+"/"+p.Arch]
		if !ok {
			r.Removed = append(r.Removed, p.Name)
			continue
		}
		delete(now, p.Name+"/"+p.Arch)
		if q.Version == p.Version || cmp != nil && cmp(q.Version, p.Version) <= 0 {
			continue
		}
		r.Outdated = append(r.Outdated, Outdated{Name: p.Name, Arch: p.Arch, Locked: p.Version, Available: q.Version,
			Suite: q.Suite, Security: security[q.Suite], Pinned: pinned[p.Name]})
	}
	for _, q := range now {
		r.Added = append(r.Added, q.Name)
	}
	sort.Strings(r.Added)
	sort.SliceStable(r.Outdated, func(i, j int) bool {
		a, b := r.Outdated[i], r.Outdated[j]
		if a.Security != b.Security {
			return a.Security
		}
		return a.Name < b.Name
	})
	return r, nil
}

func (g *globals) printOutdated(reports []OutdatedReport) error {
	if g.format == "json" {
		return writeJSON(g.stdout, reports)
	}
	for i, r := range reports {
		if i > 0 {
			fmt.Fprintln(g.stdout)
		}
		if len(r.Outdated) == 0 {
			if !g.quiet {
				fmt.Fprintf(g.stdout, "%s: every package is up to date\n", r.Lock)
			}
			continue
		}
		tw := tabwriter.NewWriter(g.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "PACKAGE\tLOCKED\tAVAILABLE\tFROM\t")
		for _, o := range r.Outdated {
			note := ""
			if o.Security {
				note = "security"
			}
			if o.Pinned {
				note = strings.TrimSpace(note + " pinned")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", o.Name, o.Locked, o.Available, o.Suite, note)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if !g.quiet {
			sec := 0
			for _, o := range r.Outdated {
				if o.Security {
					sec++
				}
			}
			fmt.Fprintf(g.stdout, "%s: %d outdated (%d security)", r.Lock, len(r.Outdated), sec)
			if len(r.Added)+len(r.Removed) > 0 {
				fmt.Fprintf(g.stdout, "; resolving again would also add %d and drop %d packages", len(r.Added), len(r.Removed))
			}
			fmt.Fprintf(g.stdout, "; update with rootfsd lock\n")
		}
	}
	return nil
}
