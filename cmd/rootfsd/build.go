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

With several architectures (--arch amd64,arm64, or one --lock per
architecture) each is built on its own, concurrently, into the one cache,
without running any package code; oci:, oci-archive: and docker:// outputs
get an OCI image index of the images, outputs with {arch} in their name one
image each, and --tag commits this machine's architecture's image.

With a lock (or SOURCE_DATE_EPOCH), the output is byte-for-byte reproducible.`,
		Example: `  rootfsd build --distro ubuntu:24.04 --pkgs ca-certificates --output tar:ca.tar
  rootfsd build --distro debian:12 --pkgs curl --output dir:rootfs
  rootfsd build --lock rootfs.lock --output oci-archive:image.tar
  rootfsd build --distro ubuntu:24.04 --pkgs ca-certificates --tag localhost/ca:24.04
  rootfsd build --distro debian:12 --pkgs python3 --layering groups --output oci:img
  rootfsd build --distro debian:12 --pkgs curl --arch amd64,arm64 --output oci:image   # an image index
  rootfsd build --lock rootfs.amd64.lock --lock rootfs.arm64.lock --output docker://registry.example.invalid/app:1
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
			if err := g.enterUserNamespace(c.Context(), req); err != nil {
				return err
			}
			req.TreeCheck = g.treeCheck(req, sf.check) // check.go
			res, err := g.service().Build(c.Context(), req, g.reporter())
			if err != nil {
				return err
			}
			if err := g.postBuildCheck(c.Context(), req, res, sf.check); err != nil { // check.go
				return err
			}
			if err := bf.writeLocks(res); err != nil {
				return err
			}
			for _, w := range res.Warnings {
				fmt.Fprintf(g.stderr, "warning: %s\n", w)
			}
			if g.format == "json" {
				return writeJSON(g.stdout, res)
			}
			if !g.quiet {
				g.printBuilt(res)
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
	f.StringVar(&bf.lockOut, "write-lock", "", "also write the lock of this build to FILE (several architectures: FILE with the architecture before .lock)")
	return c
}

func (bf *buildFlags) buildRequest() (engine.BuildRequest, error) {
	var req engine.BuildRequest
	arches, err := bf.arches()
	if err != nil {
		return req, err
	}
	switch {
	case len(bf.locks) > 0:
		if bf.distro != "" || len(bf.pkgs) > 0 {
			return req, usageError{fmt.Errorf("--lock replaces --distro and --pkgs: give one or the other")}
		}
		if len(arches) > 1 {
			return req, usageError{fmt.Errorf("--lock fixes the architecture: give one --lock per architecture instead of --arch %s", bf.arch)}
		}
		for _, path := range bf.locks {
			l, err := repo.ReadLock(path)
			if err != nil {
				return req, err
			}
			req.Platforms = append(req.Platforms, engine.Platform{Request: l.Request, Lock: l})
		}
		if len(req.Platforms) == 1 {
			req.Lock, req.Request, req.Platforms = req.Platforms[0].Lock, req.Platforms[0].Request, nil
		}
	case len(arches) > 1:
		for _, arch := range arches {
			one := bf.requestFlags
			one.arch = arch
			r, err := one.request()
			if err != nil {
				return req, err
			}
			req.Platforms = append(req.Platforms, engine.Platform{Request: r})
		}
	default:
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

// writeLocks writes --write-lock: the build's lock, or one per
// architecture of a multi-architecture build.
func (bf *buildFlags) writeLocks(res *engine.BuildResult) error {
	if bf.lockOut == "" {
		return nil
	}
	if len(res.Platforms) == 0 {
		return repo.WriteLock(bf.lockOut, res.Lock)
	}
	for _, p := range res.Platforms {
		if err := repo.WriteLock(archLockPath(bf.lockOut, p.Lock.Arch), p.Lock); err != nil {
			return err
		}
	}
	return nil
}

// printBuilt prints what a build wrote.
func (g *globals) printBuilt(res *engine.BuildResult) {
	builds := res.Platforms
	if len(builds) == 0 {
		builds = []*engine.BuildResult{res}
	}
	for _, b := range builds {
		state := ""
		if b.Cached {
			state = " (layer from cache)"
		}
		fmt.Fprintf(g.stdout, "built %s %s: %d packages, layer sha256:%s (%s)%s\n", b.Lock.Distro, b.Lock.Arch, len(b.Lock.Packages), b.LayerDigest, humanBytes(b.LayerSize), state)
		for _, o := range b.Outputs {
			fmt.Fprintf(g.stdout, "  wrote %s\n", o)
		}
		if b.ImageID != "" {
			fmt.Fprintf(g.stdout, "  image %s, manifest %s\n", b.ImageID, b.ManifestDigest)
		}
	}
	if len(res.Platforms) == 0 {
		return
	}
	for _, o := range res.Outputs {
		fmt.Fprintf(g.stdout, "wrote %s\n", o)
	}
	if res.ManifestDigest != "" {
		fmt.Fprintf(g.stdout, "image index %s\n", res.ManifestDigest)
	}
}
