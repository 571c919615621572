package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/rootfsd/rootfsd/cmd/rootfsd/engine"
	"github.com/rootfsd/rootfsd/repo"
	"github.com/rootfsd/rootfsd/repo/layering"
)

type buildFlags struct {
	requestFlags
	outputs    []string
	tag        string
	trim       string
	layering   string
	scripts    bool
	users      []string
	env        []string
	cmd        string
	entrypoint string
	workdir    string
	user       string
	labels     []string
	lockOut    string
}

func newBuildCmd(g *globals) *cobra.Command {
	var bf buildFlags
	var sf specFlags // -f, --add, --update, --check: specfile.go
	c := &cobra.Command{
		Use:   "build",
		Short: "Build a root filesystem or image from packages",
		Long: `build resolves the request (or takes --lock), downloads and verifies every
package into the cache, unpacks them, does what their maintainer scripts would
do with built-in equivalents, trims the result and writes it as a deterministic
layer: a tar file, a directory, or an image.

With a lock (or SOURCE_DATE_EPOCH), the output is byte-for-byte reproducible.`,
		Example: `  rootfsd build --distro ubuntu:24.04 --pkgs ca-certificates --output tar:ca.tar
  rootfsd build --distro debian:12 --pkgs curl --output dir:rootfs
  rootfsd build --lock rootfs.lock --output oci-archive:image.tar
  rootfsd build --distro ubuntu:24.04 --pkgs ca-certificates --tag localhost/ca:24.04
  rootfsd build --distro debian:12 --pkgs python3 --layering groups --output oci:img
  rootfsd build -f rootfs.yaml                 # the spec, from rootfs.lock beside it
  rootfsd build -f rootfs.yaml --update        # resolve again, rewrite rootfs.lock`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if sf.file != "" || len(sf.adds) > 0 {
				return g.buildFromSpec(c, &sf, &bf)
			}
			req, err := bf.buildRequest()
			if err != nil {
				return err
			}
			if err := enterUserNamespace(req); err != nil {
				return err
			}
			res, err := g.service().Build(c.Context(), req, g.reporter())
			if err != nil {
				return err
			}
			if err := g.postBuildCheck(c.Context(), req, res, sf.check); err != nil { // check.go
				return err
			}
			if bf.lockOut != "" {
				if err := repo.WriteLock(bf.lockOut, res.Lock); err != nil {
					return err
				}
			}
			for _, w := range res.Warnings {
				fmt.Fprintf(g.stderr, "warning: %s\n", w)
			}
			if g.format == "json" {
				return writeJSON(g.stdout, res)
			}
			if !g.quiet {
				state := ""
				if res.Cached {
					state = " (layer from cache)"
				}
				fmt.Fprintf(g.stdout, "built %s: %d packages, layer sha256:%s (%s)%s\n", res.Lock.Distro, len(res.Lock.Packages), res.LayerDigest, humanBytes(res.LayerSize), state)
				if len(res.Layers) > 1 {
					for i, l := range res.Layers {
						what := "the rest"
						if len(l.Packages) > 0 {
							what = strings.Join(l.Packages, " ")
						}
						fmt.Fprintf(g.stdout, "  layer %d sha256:%s (%s): %s\n", i+1, l.Digest, humanBytes(l.Size), what)
					}
				}
				for _, o := range res.Outputs {
					fmt.Fprintf(g.stdout, "  wrote %s\n", o)
				}
				if res.ImageID != "" {
					fmt.Fprintf(g.stdout, "  image %s, manifest %s\n", res.ImageID, res.ManifestDigest)
				}
			}
			return nil
		},
	}
	bf.add(c, true)
	sf.addSpecFlags(c, true)
	f := c.Flags()
	f.StringArrayVarP(&bf.outputs, "output", "o", nil, "where to write: tar:FILE, dir:PATH, oci:DIR, oci-archive:FILE, docker-archive:FILE, docker://REF (repeatable)")
	f.StringVarP(&bf.tag, "tag", "t", "", "commit the image into containers-storage under this name (podman, buildah and skopeo see it)")
	f.StringVar(&bf.trim, "trim", "docs", "what to leave out: none, docs (documentation, man, info, locales but C), minimal (also apt/dpkg caches and logs); copyright files are always kept")
	f.StringVar(&bf.layering, "layering", "single", "how image outputs are layered: single (one layer), groups (a layer per base package - libc6, libssl3, perl-base, coreutils, ...; musl, busybox, ... on Alpine - and per package over 8 MiB, then one for the rest; images on the same base share those blobs); tar and dir outputs are always the whole tree")
	f.BoolVar(&bf.scripts, "scripts", false, "run real maintainer scripts in a rootless sandbox for packages without a built-in equivalent")
	f.StringArrayVar(&bf.users, "add-user", nil, "add an account NAME[:UID] (repeatable)")
	f.StringArrayVarP(&bf.env, "env", "e", nil, "image environment variable KEY=VALUE (repeatable)")
	f.StringVar(&bf.cmd, "cmd", "", "image command, space-separated")
	f.StringVar(&bf.entrypoint, "entrypoint", "", "image entrypoint, space-separated")
	f.StringVar(&bf.workdir, "workdir", "", "image working directory")
	f.StringVar(&bf.user, "user", "", "image user NAME[:UID]; the account is added to /etc/passwd and /etc/group")
	f.StringArrayVar(&bf.labels, "label", nil, "image label KEY=VALUE (repeatable)")
	f.StringVar(&bf.lockOut, "write-lock", "", "also write the lock of this build to FILE")
	return c
}

func (bf *buildFlags) buildRequest() (engine.BuildRequest, error) {
	var req engine.BuildRequest
	if bf.lock != "" {
		if bf.distro != "" || len(bf.pkgs) > 0 {
			return req, usageError{fmt.Errorf("--lock replaces --distro and --pkgs: give one or the other")}
		}
		l, err := repo.ReadLock(bf.lock)
		if err != nil {
			return req, err
		}
		req.Lock, req.Request = l, l.Request
	} else {
		r, err := bf.request()
		if err != nil {
			return req, err
		}
		req.Request = r
	}
	switch bf.trim {
	case "none", "docs", "minimal":
	default:
		return req, usageError{fmt.Errorf("--trim %q: use none, docs or minimal", bf.trim)}
	}
	if err := layering.Check(bf.layering); err != nil {
		return req, usageError{fmt.Errorf("--%w", err)}
	}
	req.Outputs, req.Tag, req.Trim, req.Scripts, req.Layering = bf.outputs, bf.tag, bf.trim, bf.scripts, bf.layering
	req.Users = bf.users
	if bf.user != "" {
		req.User = bf.user
		req.Users = append(req.Users, bf.user)
	}
	if len(req.Outputs) == 0 && req.Tag == "" {
		return req, usageError{fmt.Errorf("nothing to write: give --output tar:FILE (or dir:, oci:, oci-archive:, docker-archive:, docker://) or --tag NAME")}
	}
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		sec, err := strconv.ParseInt(s, 10, 64)
		if err != nil || sec < 0 {
			return req, usageError{fmt.Errorf("SOURCE_DATE_EPOCH=%q: expected seconds since 1970", s)}
		}
		req.Epoch = time.Unix(sec, 0).UTC()
	}
	req.Env = bf.env
	req.Cmd, req.Entrypoint = strings.Fields(bf.cmd), strings.Fields(bf.entrypoint)
	req.WorkingDir = bf.workdir
	req.Labels = map[string]string{}
	for _, l := range bf.labels {
		k, v, ok := strings.Cut(l, "=")
		if !ok || k == "" {
			return req, usageError{fmt.Errorf("--label %q: expected KEY=VALUE", l)}
		}
		req.Labels[k] = v
	}
	return req, nil
}
