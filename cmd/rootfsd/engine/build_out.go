package engine

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/rootfsd/rootfsd/deb"
	"github.com/rootfsd/rootfsd/repo"
	"github.com/rootfsd/rootfsd/repo/fstree"
	"github.com/rootfsd/rootfsd/store"
)

// output is one parsed --output.
type output struct {
	kind string // tar, dir, oci, oci-archive, docker-archive, docker, containers-storage
	dest string
}

func (o output) String() string {
	if o.dest == "" {
		return o.kind
	}
	if o.kind == "docker" {
		return "docker://" + o.dest
	}
	return o.kind + ":" + o.dest
}

var outputKinds = []string{"tar", "dir", "oci", "oci-archive", "docker-archive", "docker", "containers-storage"}

func parseOutputs(req BuildRequest) ([]output, error) {
	var outs []output
	for _, s := range req.Outputs {
		var o output
		switch {
		case strings.HasPrefix(s, "docker://"):
			o = output{kind: "docker", dest: strings.TrimPrefix(s, "docker://")}
		case s == "containers-storage":
			o = output{kind: s}
		default:
			k, v, ok := strings.Cut(s, ":")
			if !ok || v == "" {
				return nil, fmt.Errorf("--output %q: expected KIND:DEST, e.g. tar:rootfs.tar or dir:rootfs (kinds: %s)", s, strings.Join(outputKinds, ", "))
			}
			o = output{kind: k, dest: v}
		}
		known := false
		for _, k := range outputKinds {
			known = known || k == o.kind
		}
		if !known {
			return nil, fmt.Errorf("--output %q: unknown kind %q (kinds: %s)", s, o.kind, strings.Join(outputKinds, ", "))
		}
		outs = append(outs, o)
	}
	if req.Tag != "" {
		outs = append(outs, output{kind: "containers-storage", dest: req.Tag})
	}
	if len(outs) == 0 {
		return nil, fmt.Errorf("nothing to write: give --output tar:FILE, dir:PATH, oci:DIR, oci-archive:FILE, docker-archive:FILE, docker://REF, or --tag NAME")
	}
	return outs, nil
}

// imageOutput reports whether one of outs is an image.
func imageOutput(outs []output) bool {
	for _, o := range outs {
		if o.kind != "tar" && o.kind != "dir" {
			return true
		}
	}
	return false
}

// writeOutput writes one output: tar and dir from the full layer blob,
// images from layers.
func (e *Engine) writeOutput(ctx context.Context, st *store.Store, o output, layer store.LayerRecord, layers []ImageLayer, l *repo.Lock, req BuildRequest, epoch time.Time, res *BuildResult, rep repo.Reporter) error {
	switch o.kind {
	case "tar":
		if err := copyBlobTo(ctx, st, layer.Digest, o.dest); err != nil {
			return err
		}
	case "dir":
		rc, err := st.Open(ctx, layer.Digest)
		if err != nil {
			return err
		}
		defer rc.Close()
		t := fstree.New(fstree.Options{})
		defer t.Close()
		if err := t.ReadTar(rc, ""); err != nil {
			return fmt.Errorf("read layer: %w", err)
		}
		opts := fstree.DirOptions{Epoch: epoch}
		if os.Geteuid() != 0 {
			opts.IgnoreOwnership = true
			res.Warnings = append(res.Warnings, "dir output as an unprivileged user: files are owned by you, not by the ids in the image (use --output tar: or run inside a user namespace, e.g. unshare -r, to keep them)")
		}
		if err := t.WriteDir(o.dest, opts); err != nil {
			return fmt.Errorf("--output dir:%s: %w", o.dest, err)
		}
	default:
		return e.writeImage(ctx, st, o, layers, l, req, epoch, res, rep)
	}
	rep.Report(repo.Event{Kind: repo.EventCommit, Message: "wrote " + o.String()})
	return nil
}

// assemble installs the lock's packages into t with the format's installer.
func (e *Engine) assemble(ctx context.Context, d *repo.Distro, t *fstree.Tree, l *repo.Lock, open func(repo.Planned) (io.ReadCloser, error), req BuildRequest, epoch time.Time, rep repo.Reporter) ([]string, error) {
	trim := req.Trim
	if trim == "" {
		trim = defaultTrim
	}
	switch d.Family {
	case repo.FamilyDeb:
		// The xz program decodes about 1.7 times faster than Go's decoder
		// (Debian's packages are xz); the Go decoder is the fallback.
		xz, _ := exec.LookPath("xz")
		// Decoded data.tar members are kept in the cache: the next build
		// with these packages skips decompressing them.
		st, err := e.Store()
		if err != nil {
			return nil, err
		}
		out, err := deb.Assemble(ctx, t, &l.Plan, open, deb.AssembleOptions{Trim: trim, Scripts: req.Scripts, Users: req.Users, Epoch: epoch, Report: rep, XZCommand: xz, DataCache: st})
		if err != nil {
			return nil, err
		}
		return out.Warnings, nil
	}
	return e.assembleAPK(ctx, t, l, open, req, epoch, rep)
}
