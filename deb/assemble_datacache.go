package deb

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/rootfsd/rootfsd/repo"
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

// cachedData finds p's decoded data.tar in the cache and returns its
// file, open and verified (repo.FileCache), with its digest and size.
func (a *assembler) cachedData(ctx context.Context, p *instPkg, max int64) (f *os.File, digest string, size int64, ok bool) {
	c, key := a.fileCache(), p.planned.SHA256
	if c == nil || key == "" {
		return nil, "", 0, false
	}
	v, err := c.GetMeta(dataCacheNS, key)
	if err != nil {
		return nil, "", 0, false
	}
	digest, sizeStr, _ := strings.Cut(string(v), " ")
	size, err = strconv.ParseInt(sizeStr, 10, 64)
	if err != nil || size < 0 || size > max {
		return nil, "", 0, false
	}
	if f, err = c.OpenFile(ctx, digest); err != nil {
		return nil, "", 0, false
	}
	if fi, err := f.Stat(); err != nil || fi.Size() != size {
		f.Close()
		return nil, "", 0, false
	}
	return f, digest, size, true
}

// fileCache is the data cache when it can hand out files; nil otherwise,
// which keeps nothing.
func (a *assembler) fileCache() repo.FileCache {
	c, _ := a.opt.DataCache.(repo.FileCache)
	return c
}

// keepData stores p's decoded data.tar for later assemblies, and returns
// the stored file, open (see dataFile); nil otherwise. A failure only
// means the next assembly decodes it again.
func (a *assembler) keepData(ctx context.Context, p *instPkg, data []byte) (*os.File, string) {
	c, key := a.fileCache(), p.planned.SHA256
	if c == nil || key == "" {
		return nil, ""
	}
	pl := p.planned
	name := pl.Name + "_" + pl.Version + "_" + pl.Arch + " data.tar"
	digest, n, err := repo.PutLabeled(ctx, c, bytes.NewReader(data), "", int64(len(data)), repo.BlobUnpacked, name)
	if err != nil {
		return nil, ""
	}
	_ = c.SetMeta(dataCacheNS, key, fmt.Appendf(nil, "%s %d", digest, n))
	f, err := c.OpenFile(ctx, digest) // the file just written: not hashed again
	if err != nil {
		return nil, ""
	}
	return f, digest
}

// The tree refers to the contents of a package's files in its cached
// data.tar file rather than in memory (fstree.ContentAt): the decoded
// buffers are released as soon as each package is unpacked, so a build's
// memory does not grow with its size. The tree retains the file and the
// engine checks after writing the layer that it did not change
// (fstree.Tree.CheckRetained).

// verifyFile returns the check that a retained cache file still holds the
// blob digest: a concurrent build that stored the same data.tar replaced
// the file under its name, which moves its change time without changing
// a byte (fstree.Tree.CheckRetained).
func verifyFile(digest string) func(*os.File) error {
	return func(f *os.File) error {
		h := sha256.New()
		if _, err := io.Copy(h, io.NewSectionReader(f, 0, 1<<62)); err != nil {
			return err
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != digest {
			return fmt.Errorf("content hashes to %s, not %s", got, digest)
		}
		return nil
	}
}
