package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set by the Makefile with -ldflags "-X main.version=...".
var version = "dev"

func newVersionCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print rootfsd's version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			rev := ""
			if r, _ := vcsRevision(); len(r) >= 12 {
				rev = " (" + r[:12] + ")"
			}
			if g.format == "json" {
				return writeJSON(g.stdout, map[string]string{"version": version, "revision": rev, "go": runtime.Version()})
			}
			fmt.Fprintf(g.stdout, "rootfsd %s%s %s %s/%s\n", version, rev, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
}

// vcsRevision is the VCS revision the binary was built from and whether
// the tree was modified; "" when the build did not record it.
func vcsRevision() (rev string, modified bool) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "", false
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	return rev, modified
}

// revision is vcsRevision as one string, with "+dirty" for a modified tree.
func revision() string {
	rev, modified := vcsRevision()
	if modified {
		return rev + "+dirty"
	}
	return rev
}
