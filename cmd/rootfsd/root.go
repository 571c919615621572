package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rootfsd/rootfsd/api"
	"github.com/rootfsd/rootfsd/cmd/rootfsd/engine"
	"github.com/rootfsd/rootfsd/repo"
)

// Exit codes, documented in --help.
const (
	exitOK          = 0
	exitFailure     = 1 // the operation failed (network, verification, build)
	exitUsage       = 2 // bad flags or arguments
	exitUnsatisfied = 3 // the package request cannot be satisfied
	exitInterrupted = 130
)

const exitCodesHelp = `Exit codes:
  0    success
  1    failure (network, verification, cache, build)
  2    usage error (unknown flag, bad value)
  3    the package request cannot be satisfied (unknown package, conflict)
  130  interrupted`

// globals are the flags every command shares.
type globals struct {
	cacheDir string
	format   string
	quiet    bool
	verbose  bool
	offline  bool
	mirror   string
	security string
	keys     []string
	remote   remoteFlags // --cache-from, --cache-to, --plain-http: cache_export.go
	daemon   daemonFlags // --daemon, --socket: see client.go
	stdout   io.Writer
	stderr   io.Writer
	dialed   []*api.Client  // daemon clients, closed when the command returns: client.go
	eng      *engine.Engine // the in-process service, made once: engine()
}

type usageError struct{ error }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	g := &globals{stdout: stdout, stderr: stderr}
	root := newRoot(g)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	for _, c := range g.dialed {
		c.Close()
	}
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(stderr, "rootfsd: %v\n", err)
	if h := hint(err); h != "" {
		fmt.Fprintf(stderr, "hint: %s\n", h)
	}
	var ue usageError
	var unsat *repo.UnsatisfiableError
	var unknown *repo.UnknownPackageError
	switch {
	case ctx.Err() != nil:
		return exitInterrupted
	case errors.As(err, &ue) || isCobraUsage(err):
		return exitUsage
	case errors.As(err, &unsat) || errors.As(err, &unknown):
		return exitUnsatisfied
	}
	return exitFailure
}

func isCobraUsage(err error) bool {
	s := err.Error()
	return strings.HasPrefix(s, "unknown flag") || strings.HasPrefix(s, "unknown command") ||
		strings.HasPrefix(s, "unknown shorthand") || strings.Contains(s, "flag needs an argument") ||
		strings.HasPrefix(s, "invalid argument") || strings.Contains(s, "accepts ") || strings.HasPrefix(s, "required flag")
}

func newRoot(g *globals) *cobra.Command {
	root := &cobra.Command{
		Use:   "rootfsd",
		Short: "Build minimal root filesystems and container images from distribution packages",
		Long: `rootfsd builds minimal root filesystems and container images from Debian, Ubuntu
and Alpine packages, without Docker and without root. It verifies the archives'
signed indexes, resolves dependencies the way apt and apk do, and keeps every
download in a content-addressed cache.

Mirrors are never built in: rootfsd takes --mirror (or ROOTFSD_MIRROR), or finds
the mirror in the host's apt sources and debootstrap's scripts.

` + exitCodesHelp,
		Example: `  rootfsd resolve --distro ubuntu:24.04 --pkgs ca-certificates
  rootfsd lock --distro debian:12 --pkgs curl,ca-certificates -o rootfs.lock
  rootfsd show --distro debian:12 curl`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	pf := root.PersistentFlags()
	pf.StringVar(&g.cacheDir, "cache-dir", os.Getenv("ROOTFSD_CACHE_DIR"), "cache directory (env ROOTFSD_CACHE_DIR; default $XDG_CACHE_HOME/rootfsd, /var/cache/rootfsd as root)")
	pf.StringVar(&g.format, "format", "table", "output format: table or json")
	pf.BoolVarP(&g.quiet, "quiet", "q", false, "print only results and errors")
	pf.BoolVarP(&g.verbose, "verbose", "v", false, "print every step")
	pf.BoolVar(&g.offline, "offline", false, "use cached indexes only, without network")
	pf.StringVar(&g.mirror, "mirror", os.Getenv("ROOTFSD_MIRROR"), "archive mirror URL (env ROOTFSD_MIRROR)")
	pf.StringVar(&g.security, "security-mirror", os.Getenv("ROOTFSD_SECURITY_MIRROR"), "security archive mirror URL (env ROOTFSD_SECURITY_MIRROR)")
	pf.StringArrayVar(&g.keys, "keyring", nil, "trust this key file instead of the embedded archive keys (a private mirror re-signed with your own key; Alpine: an extra RSA key); repeatable")
	// apk's spelling of the same option, for Alpine users.
	pf.StringArrayVar(&g.keys, "key", nil, "Alpine: trust this RSA public key file too (apk's --keys-dir entries); same as --keyring")
	g.addDaemonFlags(pf)
	g.addRemoteFlags(pf) // cache_export.go
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newResolveCmd(g), newLockCmd(g), newShowCmd(g), newBuildCmd(g), newSBOMCmd(g), newVersionCmd(g))
	root.AddCommand(newServeCmd(g), newStatusCmd(g), newCacheCmd(g))
	// Spec files, config, diagnostics, diffs: init.go, config_cmd.go, check.go, diff.go, outdated.go, man.go.
	root.AddCommand(newInitCmd(g), newConfigCmd(g), newCheckCmd(g), newDiffCmd(g), newOutdatedCmd(g), newManCmd(g))
	root.PersistentPreRunE = func(c *cobra.Command, _ []string) error { return g.applyConfig(c) }
	return root
}

// engine is the in-process service of this command, made on first use
// (after the flags and the config file are applied), so that the build,
// the check after it and the notes share one open cache.
func (g *globals) engine() *engine.Engine {
	if g.eng != nil {
		return g.eng
	}
	g.eng = engine.New(engine.Config{
		CacheDir: g.cacheDir,
		Mirrors:  repo.Mirrors{Mirror: g.mirror, SecurityMirror: g.security},
		Offline:  g.offline,
		Keys:     g.keys,

		CacheFrom: g.remote.from, CacheTo: g.remote.to, PlainHTTP: g.remote.plainHTTP, CacheCAFiles: g.remote.caFiles, CacheTimeout: g.remote.timeout,
	})
	return g.eng
}

func (g *globals) checkFormat() error {
	if g.format != "table" && g.format != "json" {
		return usageError{fmt.Errorf("--format %q: use table or json", g.format)}
	}
	return nil
}
