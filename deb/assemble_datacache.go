package deb

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Decompressing a package's data.tar is most of what unpacking costs (an
// xz member several times more than zstd), and a package's bytes never
// change. With AssembleOptions.DataCache the prefetchers keep each decoded
// data.tar as a blob of its own, and record under dataCacheNS which blob a
// package (by its SHA256) decodes to; a later assembly with that package
// reads the blob instead. The blob is content-addressed and verified while
// it is read, like any other: one that is gone or damaged is decoded again
// from the package, so the cache is only ever a shortcut.

// dataCacheNS is the metadata namespace: package SHA256 -> "<digest> <size>"
// of its decoded data.tar.
const dataCacheNS = "deb-data-tar"

// cachedData appends p's decoded data.tar from the cache to out, and
// reports whether it did; on false out is as it was.
func (a *assembler) cachedData(ctx context.Context, p *instPkg, out *bytes.Buffer, max int64) bool {
	c, key := a.opt.DataCache, p.planned.SHA256
	if c == nil || key == "" {
		return false
	}
	v, err := c.GetMeta(dataCacheNS, key)
	if err != nil {
		return false
	}
	digest, sizeStr, _ := strings.Cut(string(v), " ")
	size, err := strconv.ParseInt(sizeStr, 10, 64)
	if err != nil || size < 0 || size > max || !c.Has(digest) {
		return false
	}
	rc, err := c.Open(ctx, digest)
	if err != nil {
		return false
	}
	defer rc.Close()
	at := out.Len()
	out.Grow(int(size))
	// The verifying reader fails its last Read on a mismatch.
	if n, err := out.ReadFrom(io.LimitReader(rc, size+1)); err != nil || n != size {
		out.Truncate(at)
		return false
	}
	return true
}

// keepData stores p's decoded data.tar for later assemblies. A failure
// only means the next assembly decodes it again.
func (a *assembler) keepData(ctx context.Context, p *instPkg, data []byte) {
	c, key := a.opt.DataCache, p.planned.SHA256
	if c == nil || key == "" {
		return
	}
	digest, n, err := c.Put(ctx, bytes.NewReader(data), "", int64(len(data)))
	if err != nil {
		return
	}
	_ = c.SetMeta(dataCacheNS, key, fmt.Appendf(nil, "%s %d", digest, n))
}
