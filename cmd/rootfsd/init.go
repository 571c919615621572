package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"github.com/rootfsd/rootfsd/cmd/rootfsd/spec"
)

func newInitCmd(g *globals) *cobra.Command {
	var distro, out string
	var pkgs []string
	var force bool
	c := &cobra.Command{
		Use:   "init",
		Short: "Write a commented starting spec (rootfs.yaml)",
		Long: `init writes a spec file for a release: every key rootfsd knows, the optional
ones commented out with examples. Edit it, then lock and build it:

  rootfsd lock -f rootfs.yaml    pins every package in rootfs.lock
  rootfsd build -f rootfs.yaml   builds from that lock

The schema is documented in docs/spec.md. init never overwrites a file
without --force; "-" writes to standard output.`,
		Example: `  rootfsd init --distro ubuntu:24.04
  rootfsd init --distro debian:12 --pkgs curl,ca-certificates -o curl.yaml
  rootfsd init --distro alpine:3.19 -o -`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if distro == "" {
				return usageError{fmt.Errorf("--distro is required, e.g. rootfsd init --distro ubuntu:24.04")}
			}
			text, err := spec.Template(distro, pkgs)
			if err != nil {
				return usageError{err}
			}
			if out == "-" {
				_, err := fmt.Fprint(g.stdout, text)
				return err
			}
			flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
			if force {
				flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
			}
			f, err := os.OpenFile(out, flags, 0o644)
			if errors.Is(err, fs.ErrExist) {
				return usageError{fmt.Errorf("%s exists: edit it, pick another name with -o, or replace it with --force", out)}
			}
			if err != nil {
				return err
			}
			if _, err := f.WriteString(text); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
			if !g.quiet {
				fmt.Fprintf(g.stderr, "wrote %s for %s; next: rootfsd lock -f %s\n", out, distro, out)
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringVarP(&distro, "distro", "d", "", "release to start from: debian:12, ubuntu:24.04, alpine:3.19 ...")
	f.StringSliceVarP(&pkgs, "pkgs", "p", nil, "packages to list (default ca-certificates)")
	f.StringVarP(&out, "output", "o", "rootfs.yaml", `file to write ("-": standard output)`)
	f.BoolVar(&force, "force", false, "replace an existing file")
	return c
}
