package engine

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"

	"github.com/rootfsd/rootfsd/repo"
	"github.com/rootfsd/rootfsd/store/image"
)

// archPlaceholder in an output or tag makes it one per architecture.
const archPlaceholder = "{arch}"

// checkScripts refuses --scripts for an architecture this machine cannot
// run: maintainer scripts are programs of the packages' architecture, and
// rootfsd emulates none. Without --scripts no package code runs, so any
// architecture builds anywhere.
func checkScripts(req BuildRequest) error {
	if !req.Scripts {
		return nil
	}
	arch := req.Request.Arch
	if req.Lock != nil {
		arch = req.Lock.Arch
	}
	if goarch, _ := image.NormalizeArch(repo.DebianArch(arch)); goarch != runtime.GOARCH {
		return fmt.Errorf("--scripts with --arch %s: maintainer scripts are %s programs and this machine is %s; rootfsd emulates no other architecture: build %s without --scripts (the built-in equivalents run no package code)", arch, arch, runtime.GOARCH, arch)
	}
	return nil
}

// platformPlan is a multi-architecture build split into its parts.
type platformPlan struct {
	subs   []BuildRequest // per architecture, with its own outputs and tag
	arches []string
	shared []output // outputs that get the image index
	// hostTag is a Tag without {arch}: the host architecture's image is
	// committed under it.
	hostTag string
}

// planPlatforms checks a multi-architecture request and splits it.
func planPlatforms(req BuildRequest) (*platformPlan, error) {
	pp := &platformPlan{}
	seen := map[string]bool{}
	for _, p := range req.Platforms {
		a := p.Arch()
		if a == "" {
			return nil, fmt.Errorf("multi-architecture build: a platform names no architecture")
		}
		goarch, variant := image.NormalizeArch(repo.DebianArch(a))
		key := goarch + "/" + variant
		if seen[key] {
			return nil, fmt.Errorf("multi-architecture build: %s is listed twice", a)
		}
		seen[key] = true
		pp.arches = append(pp.arches, a)
	}
	var perArch []string
	for _, s := range req.Outputs {
		if strings.Contains(s, archPlaceholder) {
			perArch = append(perArch, s)
			continue
		}
		outs, err := parseOutputs(BuildRequest{Outputs: []string{s}})
		if err != nil {
			return nil, err
		}
		o := outs[0]
		switch o.kind {
		case "oci", "oci-archive", "docker":
			pp.shared = append(pp.shared, o)
		case "docker-archive":
			return nil, fmt.Errorf("--output %s: a docker archive holds no image index, so not %d architectures: use oci-archive:FILE (an index), or docker-archive:FILE-{arch}.tar (one archive per architecture)", s, len(pp.arches))
		case "containers-storage":
			return nil, fmt.Errorf("--output containers-storage: give --tag NAME (the image of this machine's architecture is committed under it) or --tag NAME-{arch}")
		default:
			return nil, fmt.Errorf("--output %s holds one architecture: put %s in the name (e.g. %s:rootfs-{arch}.tar) to get one per architecture", s, archPlaceholder, o.kind)
		}
	}
	tagPerArch := strings.Contains(req.Tag, archPlaceholder)
	if req.Tag != "" && !tagPerArch {
		pp.hostTag = req.Tag
	}
	if len(perArch) == 0 && len(pp.shared) == 0 && req.Tag == "" {
		return nil, fmt.Errorf("nothing to write: give --output oci:DIR, oci-archive:FILE or docker://REF (an image index), or outputs with %s in the name, or --tag NAME", archPlaceholder)
	}
	for i, p := range req.Platforms {
		sub := req
		sub.Platforms = nil
		sub.Request, sub.Lock = p.Request, p.Lock
		// Debian spelling whatever the distribution, as in spec files:
		// rootfs-arm64.tar for Alpine's aarch64 too.
		expand := strings.NewReplacer(archPlaceholder, repo.DebianArch(pp.arches[i]))
		sub.Outputs, sub.Tag = nil, ""
		for _, s := range perArch {
			sub.Outputs = append(sub.Outputs, expand.Replace(s))
		}
		if tagPerArch {
			sub.Tag = expand.Replace(req.Tag)
		}
		pp.subs = append(pp.subs, sub)
	}
	return pp, nil
}

// platformEngine is e with a Share of its own when it has none (the CLI's
// in-process engine): the architectures' builds then fetch a shared
// InRelease or an "Architecture: all" package once, not once each.
func (e *Engine) platformEngine() (*Engine, error) {
	st, err := e.Store()
	if err != nil {
		return nil, err
	}
	if e.cfg.Share != nil {
		return e, nil
	}
	cfg := e.cfg
	cfg.Share = NewShare(ShareOptions{})
	child := New(cfg)
	child.store = st
	return child, nil
}

// buildPlatforms builds every architecture's layer of req concurrently,
// then writes the per-architecture outputs and the image index outputs.
func (e *Engine) buildPlatforms(ctx context.Context, req BuildRequest, rep repo.Reporter) (*BuildResult, error) {
	pp, err := planPlatforms(req)
	if err != nil {
		return nil, err
	}
	for _, sub := range pp.subs {
		if err := checkScripts(sub); err != nil {
			return nil, err
		}
	}
	pe, err := e.platformEngine()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	builds := make([]*archBuild, len(pp.subs))
	errs := make([]error, len(pp.subs))
	var wg sync.WaitGroup
	for i, sub := range pp.subs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			arch := pp.arches[i]
			arep := archReporter(rep, arch)
			b, err := pe.buildArch(ctx, sub, nil, nil, arep)
			if err != nil {
				errs[i] = fmt.Errorf("%s: %w", arch, err)
				cancel()
				return
			}
			builds[i] = b
		}()
	}
	wg.Wait()
	if err := firstError(errs); err != nil {
		return nil, err
	}
	// The outputs one after the other: commits into containers-storage
	// must not share its in-process store handle concurrently.
	for i, b := range builds {
		arch := pp.arches[i]
		if err := pe.writeArchOutputs(ctx, b, pp.subs[i], archReporter(rep, arch)); err != nil {
			return nil, fmt.Errorf("%s: %w", arch, err)
		}
	}
	res := &BuildResult{}
	for i, b := range builds {
		for _, w := range b.res.Warnings {
			res.Warnings = append(res.Warnings, pp.arches[i]+": "+w)
		}
		res.Platforms = append(res.Platforms, b.res)
	}
	if len(pp.shared) > 0 || pp.hostTag != "" {
		if err := pe.writeIndexOutputs(ctx, pp, builds, res, rep); err != nil {
			return nil, err
		}
	}
	_ = builds[0].st.Flush(ctx)
	rep.Report(repo.Event{Kind: repo.EventDone, Message: fmt.Sprintf("%d architectures: %s", len(builds), strings.Join(pp.arches, ", "))})
	return res, nil
}

// archReporter passes events on with the architecture before their
// message.
func archReporter(rep repo.Reporter, arch string) repo.Reporter {
	if rep == nil {
		return nil
	}
	return func(ev repo.Event) {
		if ev.Message != "" {
			ev.Message = arch + ": " + ev.Message
		}
		rep(ev)
	}
}

// firstError is the first failure that is not the echo of another
// architecture's failure (the cancellation that followed it).
func firstError(errs []error) error {
	var first error
	for _, err := range errs {
		if err != nil && (first == nil || errors.Is(first, context.Canceled) && !errors.Is(err, context.Canceled)) {
			first = err
		}
	}
	return first
}

// writeArchOutputs writes one architecture's own outputs.
func (e *Engine) writeArchOutputs(ctx context.Context, b *archBuild, sub BuildRequest, rep repo.Reporter) error {
	if len(sub.Outputs) == 0 && sub.Tag == "" {
		return nil
	}
	outs, err := parseOutputs(sub)
	if err != nil {
		return err
	}
	var layers []ImageLayer
	if imageOutput(outs) {
		if layers, err = e.archLayers(ctx, b, sub, rep); err != nil {
			return err
		}
	}
	for _, o := range outs {
		if err := e.writeOutput(ctx, b.st, o, b.layer, layers, b.lock, sub, b.epoch, b.res, rep); err != nil {
			return err
		}
		b.res.Outputs = append(b.res.Outputs, o.String())
	}
	return nil
}

// archLayers returns the image layers of one architecture's build under
// req's layering, and records them in its result.
func (e *Engine) archLayers(ctx context.Context, b *archBuild, req BuildRequest, rep repo.Reporter) ([]ImageLayer, error) {
	layers, err := e.imageLayers(ctx, b.st, b.layer, b.lock, req, rep) // layers.go
	if err != nil {
		return nil, err
	}
	b.res.Layers = layers
	return layers, nil
}
