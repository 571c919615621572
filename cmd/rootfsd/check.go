package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/spf13/cobra"

	"github.com/rootfsd/rootfsd/cmd/rootfsd/engine"
	"github.com/rootfsd/rootfsd/repo"
	"github.com/rootfsd/rootfsd/repo/check"
)

type checkFlags struct {
	distro     string
	arch       string
	entrypoint string
	cmd        string
	user       string
	env        []string
	strict     bool
}

func newCheckCmd(g *globals) *cobra.Command {
	var cf checkFlags
	c := &cobra.Command{
		Use:   "check DIR|TAR|IMAGE",
		Short: "Find what would make a rootfs or image fail at run time",
		Long: `check looks for what makes minimal images fail when they run although they
built without error:

  - programs and libraries whose dynamic loader or DT_NEEDED libraries are not
    in the tree (found the way ld.so looks: RUNPATH, ld.so.conf, the default
    and multiarch directories; absolute symlinks resolve inside the tree)
  - TLS libraries (libssl, gnutls, nss) or Go TLS clients without a CA bundle
  - an entrypoint or command that does not exist or is not executable, or a
    script whose #! interpreter is missing
  - an image User or group without an entry in /etc/passwd or /etc/group
  - a missing or non-1777 /tmp, and missing timezone data where TZ, a
    dangling /etc/localtime, a package or a Go program expects it

Each finding names the files affected, the packages they came from, and the
package that would fix it (asked from the release's index when the tree's
/etc/os-release or --distro names one, else guessed from naming rules).

TARGET is a directory, a rootfs tar (plain or gzip), an OCI layout directory,
an oci-archive or a docker-archive; for images the entrypoint, command, user
and environment come from the image configuration, and the flags below add to
or replace them. Every build runs the same check on its output and prints the
findings as warnings.

Exit status: 0 when nothing was found, or only warnings (without --strict);
1 when an error-level problem was found (or any problem with --strict).`,
		Example: `  rootfsd check rootfs/
  rootfsd check rootfs.tar --entrypoint /usr/bin/curl --user app
  rootfsd check image.oci.tar --format json
  rootfsd check --distro ubuntu:24.04 rootfs.tar`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if err := g.checkFormat(); err != nil {
				return err
			}
			tg, err := check.Load(c.Context(), args[0], check.LoadOptions{Decompress: zstdReader, Arch: cf.arch})
			if err != nil {
				return err
			}
			defer tg.Close()
			cfg := cf.config(tg.Config)
			findings, err := g.runCheck(c.Context(), tg.FS, cfg, cf.distro, cf.arch)
			if err != nil {
				return err
			}
			return g.printFindings(args[0], findings, cf.strict)
		},
	}
	f := c.Flags()
	f.StringVarP(&cf.distro, "distro", "d", "", "release the tree is from, to name fixing packages from its index (default: from /etc/os-release in the tree)")
	f.StringVar(&cf.arch, "arch", "", "architecture: picks the image of a multi-architecture index, and the index to ask")
	f.StringVar(&cf.entrypoint, "entrypoint", "", "entrypoint to check, space-separated (replaces the image's)")
	f.StringVar(&cf.cmd, "cmd", "", "command to check, space-separated (replaces the image's)")
	f.StringVar(&cf.user, "user", "", "user the image runs as: NAME, UID, NAME:GROUP (replaces the image's)")
	f.StringArrayVarP(&cf.env, "env", "e", nil, "environment variable KEY=VALUE the image runs with (repeatable; PATH, TZ, LD_LIBRARY_PATH and SSL_CERT_FILE matter)")
	f.BoolVar(&cf.strict, "strict", false, "exit 1 on warnings too")
	return c
}

// config merges the flags into the image's configuration.
func (cf *checkFlags) config(img *check.ImageConfig) *check.ImageConfig {
	cfg := &check.ImageConfig{}
	if img != nil {
		*cfg = *img
	}
	if cf.entrypoint != "" {
		cfg.Entrypoint = strings.Fields(cf.entrypoint)
	}
	if cf.cmd != "" {
		cfg.Cmd = strings.Fields(cf.cmd)
	}
	if cf.user != "" {
		cfg.User = cf.user
	}
	cfg.Env = append(cfg.Env, cf.env...)
	return cfg
}

func zstdReader(r io.Reader) (io.ReadCloser, error) {
	d, err := zstd.NewReader(r)
	if err != nil {
		return nil, err
	}
	return d.IOReadCloser(), nil
}

// runCheck checks a tree, naming fixing packages from the release's index.
func (g *globals) runCheck(ctx context.Context, fsys fs.ReadLinkFS, cfg *check.ImageConfig, distro, arch string) ([]check.Finding, error) {
	if distro == "" {
		distro = check.Distro(fsys)
	}
	opts := check.Options{Config: cfg}
	if d, err := repo.LookupDistro(distro); err == nil {
		opts.Family = string(d.Family)
		opts.Lookup = g.indexLookup(d, arch)
	}
	return check.Run(ctx, fsys, opts)
}

// indexLookup answers "which package ships X" from the release's index
// through show: a candidate name exists, or a virtual name (apk's
// so:libssl.so.3) has providers. The first failure that is not an unknown
// package (no mirror, no network) turns it off: the findings then name
// guessed packages instead of waiting on each.
func (g *globals) indexLookup(d *repo.Distro, arch string) check.Lookup {
	req := repo.Request{Distro: d.Name(), Variant: repo.VariantBase, Arch: repo.DebianArch(arch)}
	if d.Family == repo.FamilyAPK {
		req.Arch = repo.AlpineArch(arch)
	}
	svc := g.service()
	answers := map[string][]string{}
	broken := false
	known := func(ctx context.Context, name string) []string {
		if v, ok := answers[name]; ok || broken {
			return v
		}
		infos, err := svc.Show(ctx, req, name, nil)
		var unknown *repo.UnknownPackageError
		switch {
		case errors.As(err, &unknown):
			infos = nil
		case err != nil:
			broken = true
			if g.verbose {
				fmt.Fprintf(g.stderr, "check: cannot ask the %s index (%v); package names are guesses\n", d.Name(), err)
			}
			return nil
		}
		var out []string
		switch {
		case len(infos) == 0:
		case infos[0].Version == "":
			out = infos[0].ProvidedBy
		default:
			out = []string{infos[0].Name}
		}
		answers[name] = out
		return out
	}
	return check.IndexLookup(string(d.Family), known)
}

// findingsError is check's failure: problems were found.
type findingsError struct{ errors, warnings int }

func (e findingsError) Error() string {
	return fmt.Sprintf("check found %s and %s", pluralize(e.errors, "error"), pluralize(e.warnings, "warning"))
}

func pluralize(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func countFindings(fs []check.Finding) (errs, warns int) {
	for _, f := range fs {
		if f.Severity == check.Error {
			errs++
		} else {
			warns++
		}
	}
	return errs, warns
}

func (g *globals) printFindings(target string, findings []check.Finding, strict bool) error {
	errs, warns := countFindings(findings)
	if g.format == "json" {
		if findings == nil {
			findings = []check.Finding{}
		}
		if err := writeJSON(g.stdout, findings); err != nil {
			return err
		}
	} else {
		for _, f := range findings {
			fmt.Fprintf(g.stdout, "%s: %s\n", f.Severity, f.Message)
		}
		if !g.quiet {
			if len(findings) == 0 {
				fmt.Fprintf(g.stdout, "%s: no problems found\n", target)
			} else {
				fmt.Fprintf(g.stdout, "%s: %s, %s\n", target, pluralize(errs, "error"), pluralize(warns, "warning"))
			}
		}
	}
	if errs > 0 || strict && warns > 0 {
		return findingsError{errs, warns}
	}
	return nil
}

// treeCheck returns the end-of-build check to run on the build's tree
// while its layer is written (engine.BuildRequest.TreeCheck), when the
// build writes an output postBuildCheck would read back: the same check
// on the same bytes, off the build's critical path. nil otherwise.
func (g *globals) treeCheck(req engine.BuildRequest, mode string) engine.TreeCheck {
	if mode == "off" || len(req.Platforms) > 0 || checkTarget(req.Outputs) == "" {
		return nil
	}
	cfg := &check.ImageConfig{Entrypoint: req.Entrypoint, Cmd: req.Cmd, Env: req.Env, User: req.User, WorkingDir: req.WorkingDir}
	return func(ctx context.Context, fsys fs.ReadLinkFS, l *repo.Lock) ([]check.Finding, error) {
		return g.runCheck(ctx, fsys, cfg, l.Distro, l.Arch)
	}
}

// checkTarget is the output the end-of-build check reads: the first file
// or directory output; "" for containers-storage and registries.
func checkTarget(outputs []string) string {
	for _, o := range outputs {
		kind, dest, _ := strings.Cut(o, ":")
		switch kind {
		case "tar", "dir", "oci", "oci-archive", "docker-archive":
			return dest
		}
	}
	return ""
}

// postBuildCheck runs check on the first output it can read (a tar, a
// directory or an image archive) and adds its findings to the build's
// warnings; with mode "error" an error-level finding fails the build.
// Findings of a check run in the build itself (treeCheck), or kept from
// an earlier check of the same layer, are used instead of reading back.
func (g *globals) postBuildCheck(ctx context.Context, req engine.BuildRequest, res *engine.BuildResult, mode string) error {
	if mode == "off" || res == nil {
		return nil
	}
	if mode != "" && mode != "warn" && mode != "error" {
		return usageError{fmt.Errorf("--check %q: use warn, error or off", mode)}
	}
	if len(res.Platforms) > 0 {
		// Each architecture's own outputs are read back; the image index
		// outputs hold the same images.
		for _, p := range res.Platforms {
			n := len(p.Warnings)
			if err := g.postBuildCheck(ctx, req, p, mode); err != nil {
				return err
			}
			for _, w := range p.Warnings[n:] {
				res.Warnings = append(res.Warnings, p.Lock.Arch+": "+w)
			}
		}
		return nil
	}
	target := checkTarget(res.Outputs)
	if target == "" {
		return nil // containers-storage and registries are not read back
	}
	findings, ok := res.TreeFindings, res.TreeChecked
	if ok {
		g.keepFindings(ctx, req, res, findings) // checked in the build, from its tree
		if g.verbose {
			fmt.Fprintf(g.stderr, "check: %d findings in the build's tree (checked while the layer was written)\n", len(findings))
		}
	} else if findings, ok = g.cachedFindings(ctx, req, res); ok && g.verbose { // check_note.go
		fmt.Fprintf(g.stderr, "check: %d findings of an earlier check of layer %.12s (cached)\n", len(findings), res.LayerDigest)
	}
	if !ok {
		tg, err := check.Load(ctx, target, check.LoadOptions{Decompress: zstdReader, TempDir: filepath.Dir(target)})
		if err != nil {
			res.Warnings = append(res.Warnings, fmt.Sprintf("check: cannot read %s back: %v", target, err))
			return nil
		}
		defer tg.Close()
		cfg := tg.Config
		if cfg == nil {
			cfg = &check.ImageConfig{Entrypoint: req.Entrypoint, Cmd: req.Cmd, Env: req.Env, User: req.User, WorkingDir: req.WorkingDir}
		}
		if findings, err = g.runCheck(ctx, tg.FS, cfg, res.Lock.Distro, res.Lock.Arch); err != nil {
			return err
		}
		g.keepFindings(ctx, req, res, findings)
	}
	for _, f := range findings {
		res.Warnings = append(res.Warnings, "check: "+f.Message)
	}
	if errs, warns := countFindings(findings); mode == "error" && errs > 0 {
		for _, w := range res.Warnings {
			fmt.Fprintf(g.stderr, "warning: %s\n", w)
		}
		return fmt.Errorf("%w; the build's output is written, but check: error fails the build (use --check warn to accept it)", findingsError{errs, warns})
	}
	return nil
}
