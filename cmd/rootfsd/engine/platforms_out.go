package engine

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/rootfsd/rootfsd/repo"
	"github.com/rootfsd/rootfsd/store/image"
	"github.com/rootfsd/rootfsd/store/image/publish"
)

// writeIndexOutputs writes the shared outputs of a multi-architecture
// build, each an OCI image index of every architecture's image, and
// commits this machine's architecture's image under a Tag without {arch}.
func (e *Engine) writeIndexOutputs(ctx context.Context, pp *platformPlan, builds []*archBuild, res *BuildResult, rep repo.Reporter) error {
	imgs := make([]*image.Image, 0, len(builds))
	defer func() {
		for _, img := range imgs {
			img.Close()
		}
	}()
	if len(pp.shared) > 0 {
		for i, b := range builds {
			layers, err := e.archLayers(ctx, b, pp.subs[i], rep)
			if err != nil {
				return fmt.Errorf("%s: %w", pp.arches[i], err)
			}
			img, err := e.newImage(ctx, b.st, layers, b.lock, pp.subs[i], b.epoch)
			if err != nil {
				return fmt.Errorf("%s: %w", pp.arches[i], err)
			}
			imgs = append(imgs, img)
			m, err := img.Manifest(ctx, image.Gzip)
			if err != nil {
				return fmt.Errorf("%s: %w", pp.arches[i], err)
			}
			res.Platforms[i].ImageID, res.Platforms[i].ManifestDigest = img.ID(), m.Digest
		}
	}
	for _, o := range pp.shared {
		if err := e.writeIndex(ctx, o, imgs, pp, builds, res, rep); err != nil {
			return err
		}
		res.Outputs = append(res.Outputs, o.String())
		rep.Report(repo.Event{Kind: repo.EventCommit, Message: fmt.Sprintf("wrote %s (index of %s)", o, strings.Join(pp.arches, ", "))})
	}
	if pp.hostTag == "" {
		return nil
	}
	host := -1
	for i, a := range pp.arches {
		if goarch, _ := image.NormalizeArch(repo.DebianArch(a)); goarch == runtime.GOARCH {
			host = i
		}
	}
	if host < 0 {
		return fmt.Errorf("--tag %s: containers-storage keeps one image per name and none of %s is this machine's architecture (%s): give --tag NAME-{arch} to commit each one, or push the index with --output docker://REF",
			pp.hostTag, strings.Join(pp.arches, ", "), runtime.GOARCH)
	}
	b, sub := builds[host], pp.subs[host]
	sub.Tag = pp.hostTag
	o := output{kind: "containers-storage", dest: pp.hostTag}
	layers, err := e.archLayers(ctx, b, sub, rep)
	if err != nil {
		return fmt.Errorf("%s: %w", pp.arches[host], err)
	}
	if err := e.writeImage(ctx, b.st, o, layers, b.lock, sub, b.epoch, res.Platforms[host], rep); err != nil {
		return fmt.Errorf("%s: %w", pp.arches[host], err)
	}
	res.Outputs = append(res.Outputs, o.String())
	others := strings.Join(append(append([]string(nil), pp.arches[:host]...), pp.arches[host+1:]...), ", ")
	where := "are in the image index outputs only"
	if len(pp.shared) == 0 {
		where = "are not committed (give --tag NAME-{arch} for each, or an oci:, oci-archive: or docker:// output for the index)"
	}
	warn(rep, res, fmt.Sprintf("--tag %s: containers-storage keeps one image per name, as podman pull does: committed the %s image (this machine's architecture); %s %s",
		pp.hostTag, pp.arches[host], others, where))
	return nil
}

// writeIndex writes one shared output: the index of imgs, and an SPDX
// and a CycloneDX document per architecture beside file exports.
func (e *Engine) writeIndex(ctx context.Context, o output, imgs []*image.Image, pp *platformPlan, builds []*archBuild, res *BuildResult, rep repo.Reporter) error {
	ix, err := image.NewIndex(imgs)
	if err != nil {
		return err
	}
	tag := pp.hostTag
	if tag == "" {
		tag = image.DefaultTag
	}
	sboms := func(base func(arch string) string) error {
		for i, b := range builds {
			if err := e.writeSBOMs(b.lock, b.epoch, base(repo.DebianArch(pp.arches[i])), res); err != nil {
				return err
			}
		}
		return nil
	}
	switch o.kind {
	case "oci":
		dir, t := image.SplitLayoutDest(o.dest)
		if t == "" {
			t = tag
		}
		m, err := ix.WriteOCI(ctx, dir, image.LayoutOptions{Tag: t})
		if err != nil {
			return err
		}
		res.ManifestDigest = m.Digest
		return sboms(func(arch string) string { return filepath.Join(dir, "sbom-"+arch) })
	case "oci-archive":
		file, t := image.SplitLayoutDest(o.dest)
		if t == "" {
			t = tag
		}
		m, err := ix.WriteOCIArchive(ctx, file, image.LayoutOptions{Tag: t})
		if err != nil {
			return err
		}
		res.ManifestDigest = m.Digest
		return sboms(func(arch string) string { return strings.TrimSuffix(file, ".tar") + "-" + arch + ".tar" })
	case "docker":
		digest, err := publish.PushIndex(ctx, ix, "docker://"+o.dest, publish.PushOptions{Insecure: e.insecurePush(o.dest), Report: rep})
		if err != nil {
			return err
		}
		res.ManifestDigest = digest
		return nil
	}
	return fmt.Errorf("--output %s: no image index for this kind", o)
}
