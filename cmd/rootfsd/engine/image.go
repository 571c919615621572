package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rootfsd/rootfsd/repo"
	"github.com/rootfsd/rootfsd/repo/sbom"
	"github.com/rootfsd/rootfsd/store"
	"github.com/rootfsd/rootfsd/store/image"
	"github.com/rootfsd/rootfsd/store/image/publish"
	"github.com/rootfsd/rootfsd/store/remote"
)

// newImage describes the layers as an image with the request's config.
func (e *Engine) newImage(ctx context.Context, st *store.Store, layers []ImageLayer, l *repo.Lock, req BuildRequest, epoch time.Time) (*image.Image, error) {
	arch, variant := image.NormalizeArch(l.Arch)
	cfg := image.Config{
		Created:      epoch,
		OS:           "linux",
		Architecture: arch,
		Variant:      variant,
		Env:          req.Env,
		Entrypoint:   req.Entrypoint,
		Cmd:          req.Cmd,
		WorkingDir:   req.WorkingDir,
		User:         userName(req.User),
		Labels:       req.Labels,
		Annotations:  map[string]string{},
		CreatedBy:    "rootfsd build " + l.Distro,
	}
	for k, v := range req.Annotations {
		cfg.Annotations[k] = v
	}
	if _, ok := cfg.Annotations["org.opencontainers.image.base.name"]; !ok {
		cfg.Annotations["org.opencontainers.image.base.name"] = "scratch"
	}
	if _, ok := cfg.Annotations["org.opencontainers.image.description"]; !ok {
		cfg.Annotations["org.opencontainers.image.description"] = fmt.Sprintf("%s: %s", l.Distro, strings.Join(l.Request.Packages, ", "))
	}
	if len(cfg.Cmd) == 0 && len(cfg.Entrypoint) == 0 {
		cfg.Cmd = defaultCmd(l)
	}
	return image.New(ctx, imageLayerList(st, layers, l), cfg, image.Options{Cache: st}) // layers.go
}

// userName is the image's User: NAME of NAME[:UID].
func userName(u string) string {
	name, _, _ := strings.Cut(u, ":")
	return name
}

// defaultCmd is a shell when the image has one.
func defaultCmd(l *repo.Lock) []string {
	for _, p := range l.Packages {
		switch p.Name {
		case "bash":
			return []string{"/bin/bash"}
		case "dash", "busybox":
			return []string{"/bin/sh"}
		}
	}
	return nil
}

// writeImage writes an image output and the SBOM beside file exports.
func (e *Engine) writeImage(ctx context.Context, st *store.Store, o output, layers []ImageLayer, l *repo.Lock, req BuildRequest, epoch time.Time, res *BuildResult, rep repo.Reporter) error {
	img, err := e.newImage(ctx, st, layers, l, req, epoch)
	if err != nil {
		return err
	}
	defer img.Close()
	res.ImageID = img.ID()
	tag := req.Tag
	if tag == "" {
		tag = "latest"
	}
	switch o.kind {
	case "oci":
		dir, t := image.SplitLayoutDest(o.dest)
		if t == "" {
			t = tag
		}
		m, err := img.WriteOCI(ctx, dir, image.LayoutOptions{Tag: t})
		if err != nil {
			return err
		}
		res.ManifestDigest = m.Digest
		return e.writeSBOMs(l, epoch, filepath.Join(dir, "sbom"), res)
	case "oci-archive":
		file, t := image.SplitLayoutDest(o.dest)
		if t == "" {
			t = tag
		}
		m, err := img.WriteOCIArchive(ctx, file, image.LayoutOptions{Tag: t})
		if err != nil {
			return err
		}
		res.ManifestDigest = m.Digest
		return e.writeSBOMs(l, epoch, file, res)
	case "docker-archive":
		var refs []string
		if req.Tag != "" {
			name, err := image.LocalName(req.Tag)
			if err != nil {
				return err
			}
			refs = append(refs, name)
		}
		if err := img.WriteDockerArchive(ctx, o.dest, refs...); err != nil {
			return err
		}
		m, err := img.Manifest(ctx, image.Uncompressed)
		if err == nil {
			res.ManifestDigest = m.Digest
		}
		return e.writeSBOMs(l, epoch, o.dest, res)
	case "docker":
		digest, err := publish.Push(ctx, img, "docker://"+o.dest, publish.PushOptions{Insecure: e.insecurePush(o.dest), Report: rep})
		if err != nil {
			return err
		}
		res.ManifestDigest = digest
	case "containers-storage":
		name := o.dest
		if name == "" {
			name = req.Tag
		}
		if name == "" {
			return fmt.Errorf("containers-storage needs a name: give --tag NAME")
		}
		if os.Geteuid() != 0 && !publish.InUserNamespace() {
			if err := publish.CheckRootless(); err != nil {
				return err
			}
			return fmt.Errorf("committing to containers-storage as an unprivileged user needs a user namespace: run the rootfsd command line (it re-executes itself), or export with --output oci-archive:FILE, which needs none")
		}
		r, err := publish.Commit(ctx, img, name, publish.CommitOptions{Report: rep})
		if err != nil {
			return err
		}
		res.ImageID, res.ManifestDigest = r.ID, r.ManifestDigest
	}
	rep.Report(repo.Event{Kind: repo.EventCommit, Message: "wrote " + o.String()})
	return nil
}

// writeSBOMs writes SPDX and CycloneDX documents beside an export.
func (e *Engine) writeSBOMs(l *repo.Lock, epoch time.Time, base string, res *BuildResult) error {
	for _, f := range sbom.Formats {
		data, err := sbom.Generate(f, &l.Plan, sbom.Options{Name: l.Distro, Created: epoch})
		if err != nil {
			return err
		}
		path := strings.TrimSuffix(base, ".tar") + f.Ext()
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return fmt.Errorf("write SBOM: %w", err)
		}
		res.SBOM = append(res.SBOM, path)
	}
	return nil
}

// insecurePush says whether a push to dest (HOST/REPO:TAG) may speak plain
// HTTP or skip TLS verification: InsecureRegistry, or --plain-http to a
// loopback registry.
func (e *Engine) insecurePush(dest string) bool {
	host, _, _ := strings.Cut(dest, "/")
	return e.cfg.InsecureRegistry || e.cfg.PlainHTTP && remote.IsLoopback(host)
}
