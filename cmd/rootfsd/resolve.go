package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/rootfsd/rootfsd/repo"
)

func newResolveCmd(g *globals) *cobra.Command {
	var rf requestFlags
	c := &cobra.Command{
		Use:   "resolve",
		Short: "Print the exact package set a request resolves to, and why",
		Long: `resolve fetches and verifies the release's signed indexes, then resolves the
requested packages the way "apt-get install --no-install-recommends" (or apk add)
would into an empty system, and prints every package with its version, size and
the reason it is there.`,
		Example: `  rootfsd resolve --distro ubuntu:24.04 --pkgs ca-certificates
  rootfsd resolve --distro debian:12 --pkgs curl --variant custom --format json
  rootfsd resolve --distro debian:12 --variant essential
  rootfsd resolve --lock rootfs.lock`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := g.checkFormat(); err != nil {
				return err
			}
			plan, err := g.plan(c, &rf)
			if err != nil {
				return err
			}
			return printPlan(g.stdout, g.format, plan)
		},
	}
	rf.add(c, true)
	return c
}

func newLockCmd(g *globals) *cobra.Command {
	var rf requestFlags
	var out string
	var sf specFlags // -f: specfile.go
	c := &cobra.Command{
		Use:   "lock",
		Short: "Resolve a request and write the lockfile (rootfs.lock)",
		Long: `lock resolves like resolve and writes the result to a lockfile: the distro,
each index's InRelease hash and date, and for every package its name, version,
architecture, pool path, size and SHA256, plus the request. Building with
--lock reproduces exactly that set, even after the archive has moved on.
A lock holds one architecture: with --arch amd64,arm64 one lock each is
written, the architecture before ".lock" (-o rootfs.lock writes
rootfs.amd64.lock and rootfs.arm64.lock).
The schema is documented in docs/lockfile.md.`,
		Example: `  rootfsd lock --distro ubuntu:24.04 --pkgs ca-certificates
  rootfsd lock --distro debian:12 --pkgs curl -o curl.lock
  rootfsd lock --distro debian:12 --pkgs curl --arch amd64,arm64   # rootfs.amd64.lock, rootfs.arm64.lock
  rootfsd lock -f rootfs.yaml          # writes rootfs.lock beside the spec`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if sf.file != "" {
				return g.lockSpec(c, &sf, &rf, out)
			}
			arches, err := rf.arches()
			if err != nil {
				return err
			}
			for _, arch := range arches {
				path := out
				if len(arches) > 1 {
					path = archLockPath(out, arch)
				}
				one := rf
				one.arch = arch
				req, err := one.request()
				if err != nil {
					return err
				}
				lock, err := g.service().Lock(c.Context(), req, g.reporter())
				if err != nil {
					return err
				}
				if err := repo.WriteLock(path, lock); err != nil {
					return err
				}
				if !g.quiet {
					fmt.Fprintf(g.stderr, "wrote %s: %d packages, %s, digest %s\n", path, len(lock.Packages), humanBytes(lock.TotalSize()), lock.Digest()[:12])
				}
			}
			return nil
		},
	}
	rf.add(c, false)
	sf.addSpecFlags(c, false)
	c.Flags().StringVarP(&out, "output", "o", "rootfs.lock", "lockfile to write")
	return c
}

func newShowCmd(g *globals) *cobra.Command {
	var rf requestFlags
	c := &cobra.Command{
		Use:   "show PKG",
		Short: "Show every available version of a package",
		Example: `  rootfsd show --distro ubuntu:24.04 openssl
  rootfsd show --distro debian:12 --format json libc6`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if err := g.checkFormat(); err != nil {
				return err
			}
			rf.pkgs = nil
			req, err := rf.request()
			if err != nil {
				return err
			}
			infos, err := g.service().Show(c.Context(), req, args[0], g.reporter())
			if err != nil {
				return err
			}
			if g.format == "json" {
				return writeJSON(g.stdout, infos)
			}
			for i, in := range infos {
				if i > 0 {
					fmt.Fprintln(g.stdout)
				}
				if in.Version == "" {
					fmt.Fprintf(g.stdout, "%s is a virtual package, provided by: %s\n", in.Name, strings.Join(in.ProvidedBy, ", "))
					continue
				}
				mark := ""
				if in.Candidate {
					mark = " (candidate)"
				}
				fmt.Fprintf(g.stdout, "%s %s %s from %s%s\n", in.Name, in.Version, in.Arch, in.Suite, mark)
				fmt.Fprintf(g.stdout, "  file: %s (%s)\n", in.Filename, humanBytes(in.Size))
				for _, k := range []string{"Source", "Priority", "Section", "Essential", "Multi-Arch", "Pre-Depends", "Depends", "Recommends", "Provides", "Conflicts", "Breaks"} {
					if v := in.Fields[k]; v != "" {
						fmt.Fprintf(g.stdout, "  %s: %s\n", k, strings.Join(strings.Fields(v), " "))
					}
				}
				if in.Description != "" {
					fmt.Fprintf(g.stdout, "  %s\n", in.Description)
				}
				if len(in.ProvidedBy) > 0 && i == 0 {
					fmt.Fprintf(g.stdout, "  also provided by: %s\n", strings.Join(in.ProvidedBy, ", "))
				}
			}
			return nil
		},
	}
	rf.add(c, false)
	c.Flags().Lookup("pkgs").Hidden = true
	return c
}

// plan resolves from flags, or returns the lock's plan with --lock.
func (g *globals) plan(c *cobra.Command, rf *requestFlags) (*repo.Plan, error) {
	lockPath, err := rf.lock()
	if err != nil {
		return nil, err
	}
	if lockPath != "" {
		if rf.distro != "" || len(rf.pkgs) > 0 {
			return nil, usageError{fmt.Errorf("--lock replaces --distro and --pkgs: give one or the other")}
		}
		l, err := repo.ReadLock(lockPath)
		if err != nil {
			return nil, err
		}
		return &l.Plan, nil
	}
	req, err := rf.request()
	if err != nil {
		return nil, err
	}
	return g.service().Resolve(c.Context(), req, g.reporter())
}

func printPlan(w io.Writer, format string, p *repo.Plan) error {
	if format == "json" {
		return writeJSON(w, p)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVERSION\tARCH\tSIZE\tFROM\tREASON")
	for _, pk := range p.Packages {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", pk.Name, pk.Version, pk.Arch, humanBytes(pk.Size), pk.Suite, pk.Reason)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%d packages, %s to download (%s, %s, variant %s)\n", len(p.Packages), humanBytes(p.TotalSize()), p.Distro, p.Arch, p.Variant)
	return err
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// archLockPath is the lock of arch when one command writes several: the
// architecture goes before ".lock" ("rootfs.lock" -> "rootfs.arm64.lock"),
// as beside a spec with several architectures.
func archLockPath(path, arch string) string {
	if base, ok := strings.CutSuffix(path, ".lock"); ok {
		return base + "." + arch + ".lock"
	}
	return path + "." + arch
}
