package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

func newManCmd(g *globals) *cobra.Command {
	var dir string
	c := &cobra.Command{
		Use:   "man",
		Short: "Write man pages for every command",
		Long: `man writes a man page for rootfsd and each of its commands (rootfsd.1,
rootfsd-build.1, ...) into a directory, generated from the same command tree
as --help. Shell completion comes from "rootfsd completion bash|zsh|fish|powershell".`,
		Example: `  rootfsd man --dir /usr/local/share/man/man1
  rootfsd man --dir man && man -l man/rootfsd-build.1
  rootfsd completion bash > /etc/bash_completion.d/rootfsd`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			root := c.Root()
			root.DisableAutoGenTag = true
			hdr := &doc.GenManHeader{Title: "ROOTFSD", Section: "1", Source: "rootfsd " + version, Manual: "rootfsd manual"}
			if err := doc.GenManTree(root, hdr, dir); err != nil {
				return fmt.Errorf("write man pages to %s: %w", dir, err)
			}
			if !g.quiet {
				fmt.Fprintf(g.stderr, "wrote man pages to %s\n", dir)
			}
			return nil
		},
	}
	c.Flags().StringVar(&dir, "dir", "man", "directory to write the pages to")
	return c
}
