package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/rootfsd/rootfsd/repo"
	"github.com/rootfsd/rootfsd/repo/layering"
	"github.com/rootfsd/rootfsd/store"
	"github.com/rootfsd/rootfsd/store/image"
	"github.com/rootfsd/rootfsd/store/remote"
)

// gzipMediaType is the media type of a compressed layer in the cache.
const gzipMediaType = "application/vnd.oci.image.layer.v1.tar+gzip"

// compressedOnly says whether every output takes the image's gzip layer
// and never the uncompressed tar: OCI layouts and archives, and pushes.
// Builds with only such outputs can take the compressed layer from a
// registry cache and skip both the uncompressed layer and compression.
func compressedOnly(outs []output) bool {
	for _, o := range outs {
		switch o.kind {
		case "oci", "oci-archive", "docker":
		default:
			return false
		}
	}
	return len(outs) > 0
}

// pullCompressedLayer takes the layer of key from the registry cache in
// its compressed form only: the layer entry gives the uncompressed digest
// and size (what the image config names), the gzip entry of that digest
// gives the blob the exports use as is. Nothing is kept as the layer of
// key in the store, since its tar is not there; the image is written from
// the gzip blob. Only for single-layer images (--layering groups splits the
// tar) and builds whose outputs all take the gzip layer; any failure falls
// back to pullLayer.
func (e *Engine) pullCompressedLayer(ctx context.Context, st *store.Store, from *remote.Cache, key, distro string, outs []output, layers string, rep repo.Reporter, res *BuildResult) (store.LayerRecord, bool) {
	if from == nil || !compressedOnly(outs) || layers != "" && layers != layering.Single {
		return store.LayerRecord{}, false
	}
	tag, err := remote.LayerTag(key)
	if err != nil {
		return store.LayerRecord{}, false
	}
	ent, err := from.Resolve(ctx, tag, maxRemoteLayer)
	if err != nil || ent.MediaType != layerMediaType {
		return store.LayerRecord{}, false
	}
	diffID := strings.TrimPrefix(ent.Digest, "sha256:")
	if _, _, ok := image.CachedGzip(st, diffID, 0); !ok {
		gtag, err := remote.GzipTag(image.DefaultGzipLevel, diffID)
		if err != nil {
			return store.LayerRecord{}, false
		}
		gent, rc, err := from.Pull(ctx, gtag, maxRemoteLayer)
		if err != nil {
			return store.LayerRecord{}, false
		}
		defer rc.Close()
		if gent.MediaType != gzipMediaType {
			return store.LayerRecord{}, false
		}
		blob, err := st.PutBlob(ctx, rc, gent.Digest, gent.Size, store.Label{Kind: store.KindLayer, Name: distro + " " + key[:12] + " gzip"})
		if err != nil {
			warn(rep, res, fmt.Sprintf("registry cache %s: compressed layer %s refused: %v", from, diffID[:12], err))
			return store.LayerRecord{}, false
		}
		if err := image.RememberGzip(st, diffID, 0, blob.Digest, blob.Size); err != nil {
			return store.LayerRecord{}, false
		}
	}
	rep.Report(repo.Event{Kind: repo.EventLayer, Message: "layer " + diffID[:12] + " (compressed) from " + from.String(), Cached: true})
	return store.LayerRecord{Key: key, Digest: diffID, Size: ent.Size, DiffID: diffID, MediaType: layerMediaType}, true
}

// pushCompressedLayer uploads the gzip form of the layer, when an export
// made it, so that other machines export without compressing; a failure
// is a warning.
func (e *Engine) pushCompressedLayer(ctx context.Context, st *store.Store, to *remote.Cache, rec store.LayerRecord, rep repo.Reporter, res *BuildResult) {
	if to == nil {
		return
	}
	blob, size, ok := image.CachedGzip(st, rec.Digest, 0)
	if !ok {
		return
	}
	tag, err := remote.GzipTag(image.DefaultGzipLevel, rec.Digest)
	if err != nil {
		return
	}
	if has, err := to.Has(ctx, tag); err == nil && has {
		return
	}
	ent := remote.Entry{Digest: "sha256:" + blob, Size: size, MediaType: gzipMediaType}
	if err := to.Push(ctx, tag, ent, func() (io.ReadCloser, error) { return st.Open(ctx, blob) }); err != nil {
		warn(rep, res, err.Error())
		return
	}
	rep.Report(repo.Event{Kind: repo.EventLayer, Message: "compressed layer " + blob[:12] + " pushed to " + to.String()})
}

// errLayerNotLocal is what reading the tar of a layer taken compressed
// from a registry cache gives: exports that need it are not chosen then.
var errLayerNotLocal = errors.New("only the compressed form of this layer is in the cache")

// layerSource is the uncompressed tar of layer for image.New: the store
// blob, or, for a layer taken compressed from a registry cache, an opener
// that fails (the exports use the gzip blob and never call it).
func layerSource(st *store.Store, layer store.LayerRecord) image.Layer {
	if st.Has(layer.Digest) {
		return image.Layer{Path: st.Path(layer.Digest), DiffID: layer.Digest, Size: layer.Size}
	}
	d := layer.Digest
	return image.Layer{DiffID: d, Size: layer.Size, Open: func(context.Context) (io.ReadCloser, error) {
		return nil, fmt.Errorf("layer sha256:%s: %w", d, errLayerNotLocal)
	}}
}
