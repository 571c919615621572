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
	"sync"

	"github.com/rootfsd/rootfsd/repo"
	"github.com/rootfsd/rootfsd/repo/fstree"
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
// file, open, once the cache has read and verified it, with its digest and
// size. The file is opened before the cache reads it and must be the same
// file, unchanged, afterwards: then it holds the bytes that were verified.
func (a *assembler) cachedData(ctx context.Context, p *instPkg, max int64) (f *os.File, digest string, size int64, ok bool) {
	c, key := a.opt.DataCache, p.planned.SHA256
	if c == nil || key == "" {
		return nil, "", 0, false
	}
	v, err := c.GetMeta(dataCacheNS, key)
	if err != nil {
		return nil, "", 0, false
	}
	digest, sizeStr, _ := strings.Cut(string(v), " ")
	size, err = strconv.ParseInt(sizeStr, 10, 64)
	if err != nil || size < 0 || size > max || !c.Has(digest) {
		return nil, "", 0, false
	}
	f, before := openStat(c.Path(digest))
	if f == nil || before.Size() != size {
		closeFile(f)
		return nil, "", 0, false
	}
	rc, err := c.Open(ctx, digest)
	if err != nil {
		closeFile(f)
		return nil, "", 0, false
	}
	defer rc.Close()
	buf := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(buf)
	// The verifying reader fails its last Read on a mismatch.
	// (io.Discard as is would read through its own small buffer.)
	if n, err := io.CopyBuffer(struct{ io.Writer }{io.Discard}, io.LimitReader(rc, size+1), *buf); err != nil || n != size {
		closeFile(f)
		return nil, "", 0, false
	}
	after, err1 := f.Stat()
	named, err2 := os.Stat(c.Path(digest))
	if err1 != nil || err2 != nil || !fstree.SameVersion(before, after) || !fstree.SameVersion(before, named) {
		closeFile(f)
		return nil, "", 0, false
	}
	return f, digest, size, true
}

// copyBufs are the buffers cachedData and sameContent read through.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 1<<20); return &b }}

// keepData stores p's decoded data.tar for later assemblies, and returns
// the stored file, open, once it has compared its bytes with data (see
// dataFile); nil otherwise. A failure only means the next assembly
// decodes it again.
func (a *assembler) keepData(ctx context.Context, p *instPkg, data []byte) (*os.File, string) {
	c, key := a.opt.DataCache, p.planned.SHA256
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
	f, _ := openStat(c.Path(digest))
	if f != nil && !sameContent(f, data) {
		closeFile(f)
		f = nil
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

func openStat(name string) (*os.File, os.FileInfo) {
	f, err := os.Open(name)
	if err != nil {
		return nil, nil
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, nil
	}
	return f, fi
}

func closeFile(f *os.File) {
	if f != nil {
		f.Close()
	}
}

// sameContent reports whether f holds exactly b.
func sameContent(f *os.File, b []byte) bool {
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	buf := *bp
	var off int64
	for {
		n, err := f.ReadAt(buf, off)
		if int64(n) > int64(len(b))-off || !bytes.Equal(buf[:n], b[off:off+int64(n)]) {
			return false
		}
		off += int64(n)
		if err == io.EOF {
			return off == int64(len(b))
		}
		if err != nil {
			return false
		}
	}
}
