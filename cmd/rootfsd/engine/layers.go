package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/rootfsd/rootfsd/apk"
	"github.com/rootfsd/rootfsd/deb"
	"github.com/rootfsd/rootfsd/repo"
	"github.com/rootfsd/rootfsd/repo/layering"
	"github.com/rootfsd/rootfsd/store"
	"github.com/rootfsd/rootfsd/store/image"
)

// splitNamespace holds, per full layer and splitting rule, the layers the
// split made: a rebuild of the same layer finds them instead of
// splitting again. The full layer stays the cached truth (its key does
// not depend on the layering), so a layer pulled from a registry cache
// splits the same way as one built here.
const splitNamespace = "layering"

// ImageLayer is one layer of an image a build wrote.
type ImageLayer struct {
	// Digest is the SHA256 of the uncompressed layer tar (its diffID).
	Digest string `json:"digest"`
	Size   int64  `json:"size"`
	// Packages holds the package of a group layer; empty for a single
	// layer and for the last layer of a split.
	Packages []string `json:"packages,omitempty"`
}

// imageLayers returns the layers an image of the full layer consists of,
// bottom first, under req's layering.
func (e *Engine) imageLayers(ctx context.Context, st *store.Store, full store.LayerRecord, l *repo.Lock, req BuildRequest, rep repo.Reporter) ([]ImageLayer, error) {
	if req.Layering == "" || req.Layering == layering.Single {
		return []ImageLayer{{Digest: full.Digest, Size: full.Size}}, nil
	}
	if err := layering.Check(req.Layering); err != nil {
		return nil, err
	}
	d, err := repo.LookupDistro(l.Distro)
	if err != nil {
		return nil, err
	}
	key := layering.Version + ":" + full.Digest
	if ls, ok := cachedSplit(ctx, st, key); ok {
		rep.Report(repo.Event{Kind: repo.EventLayer, Message: fmt.Sprintf("%d layers from cache", len(ls)), Cached: true})
		return ls, nil
	}
	ls, _, err := Shared(ctx, e.cfg.Share, "split\x00"+key, func(ctx context.Context) ([]ImageLayer, error) {
		return splitLayer(ctx, st, full, d, l.Distro, rep)
	})
	if err != nil {
		return nil, err
	}
	data, err := json.Marshal(ls)
	if err == nil {
		err = st.SetMetaContext(ctx, splitNamespace, key, data)
	}
	if err != nil {
		return nil, fmt.Errorf("record the split of layer %s: %w", full.Digest[:12], err)
	}
	return ls, nil
}

// cachedSplit returns a recorded split whose blobs are all present.
func cachedSplit(ctx context.Context, st *store.Store, key string) ([]ImageLayer, bool) {
	data, err := st.GetMetaContext(ctx, splitNamespace, key)
	if err != nil {
		return nil, false
	}
	var ls []ImageLayer
	if json.Unmarshal(data, &ls) != nil || len(ls) == 0 {
		return nil, false
	}
	for _, l := range ls {
		if !st.Has(l.Digest) {
			return nil, false
		}
	}
	return ls, true
}

// splitRules returns the package database and rules of d's family.
func splitRules(d *repo.Distro) (layering.Database, layering.Rules, error) {
	switch d.Family {
	case repo.FamilyDeb:
		return deb.OwnerDatabase(), layering.Rules{Base: deb.LayerBase()}, nil
	case repo.FamilyAPK:
		return apk.OwnerDatabase(), layering.Rules{Base: apk.LayerBase()}, nil
	}
	return layering.Database{}, layering.Rules{}, fmt.Errorf("--layering %s: not supported for %s", layering.Groups, d.Name())
}

// splitLayer splits the full layer into group layers, each streamed into
// the store.
func splitLayer(ctx context.Context, st *store.Store, full store.LayerRecord, d *repo.Distro, distro string, rep repo.Reporter) ([]ImageLayer, error) {
	db, rules, err := splitRules(d)
	if err != nil {
		return nil, err
	}
	rc, err := st.Open(ctx, full.Digest)
	if err != nil {
		return nil, err
	}
	plan, err := layering.NewPlan(ctx, rc, db, rules)
	rc.Close()
	if err != nil {
		return nil, fmt.Errorf("split layer %s: %w", full.Digest[:12], err)
	}
	n := len(plan.Groups)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		ws    = make([]io.Writer, n)
		pws   = make([]*io.PipeWriter, n)
		blobs = make([]store.Blob, n)
		errs  = make([]error, n)
	)
	for i := range n {
		pr, pw := io.Pipe()
		ws[i], pws[i] = pw, pw
		name := distro + " " + full.Digest[:12] + " layer " + fmt.Sprint(i+1) + "/" + fmt.Sprint(n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			blobs[i], errs[i] = st.PutBlob(ctx, pr, "", -1, store.Label{Kind: store.KindLayer, Name: name})
			// Unblock the writer if the store gave up early.
			pr.CloseWithError(errors.Join(errs[i], errors.New("layer write ended")))
		}()
	}
	rc, err = st.Open(ctx, full.Digest)
	if err == nil {
		err = plan.Write(ctx, rc, ws)
		rc.Close()
	}
	for _, pw := range pws {
		pw.CloseWithError(err) // nil: a clean end of the stream
	}
	wg.Wait()
	if err := errors.Join(append([]error{err}, errs...)...); err != nil {
		return nil, fmt.Errorf("split layer %s: %w", full.Digest[:12], err)
	}
	out := make([]ImageLayer, n)
	var sizes []string
	for i, g := range plan.Groups {
		out[i] = ImageLayer{Digest: blobs[i].Digest, Size: blobs[i].Size, Packages: g.Packages}
		sizes = append(sizes, humanSize(blobs[i].Size))
	}
	rep.Report(repo.Event{Kind: repo.EventLayer, Message: fmt.Sprintf("split into %d layers (%s)", n, strings.Join(sizes, ", "))})
	return out, nil
}

// imageLayerList describes the layers for an image, with a history
// comment per layer that says which packages it holds.
func imageLayerList(st *store.Store, ls []ImageLayer, l *repo.Lock) []image.Layer {
	out := make([]image.Layer, len(ls))
	grouped := 0
	for _, x := range ls {
		grouped += len(x.Packages)
	}
	for i, x := range ls {
		comment := l.Distro + " lock " + l.Digest()[:12]
		switch {
		case len(x.Packages) > 0:
			comment = "packages: " + strings.Join(x.Packages, " ")
		case len(ls) > 1:
			comment += fmt.Sprintf(": the other %d packages and the files no package owns", len(l.Packages)-grouped)
		}
		out[i] = layerSource(st, store.LayerRecord{Digest: x.Digest, Size: x.Size}) // remote_gzip.go
		out[i].Comment = comment
	}
	return out
}
