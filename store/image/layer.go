package image

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
)

// Layer is one uncompressed layer tar, listed bottom first.
type Layer struct {
	// Path names the tar file, e.g. a store blob (store.Store.Path). It
	// is only read, never modified or linked.
	Path string
	// Open, used when Path is empty, returns the tar stream. It may be
	// called several times (once per export that needs the content).
	Open func(ctx context.Context) (io.ReadCloser, error)
	// DiffID is the SHA256 of the tar ("sha256:<hex>" or "<hex>"). When
	// set it is checked on every read; when empty it is computed by
	// reading the layer once.
	DiffID string
	// Size of the tar in bytes; 0 means unknown (taken from Path, or
	// counted while hashing).
	Size int64
	// Comment is recorded in the layer's history entry.
	Comment string
}

// layer is a Layer with its digest and size known.
type layer struct {
	open    func(ctx context.Context) (io.ReadCloser, error)
	diffID  string // hex
	size    int64
	comment string
	name    string // for messages
	path    string // the tar file, when given as Path
}

// resolveLayer checks l and learns its diffID and size, hashing the content
// when the diffID is not given.
func resolveLayer(ctx context.Context, i int, l Layer) (*layer, error) {
	out := &layer{comment: l.Comment, size: l.Size, name: fmt.Sprintf("layer %d", i+1)}
	switch {
	case l.Path != "":
		path := l.Path
		out.name += " (" + path + ")"
		out.path = path
		out.open = func(context.Context) (io.ReadCloser, error) { return os.Open(path) }
		fi, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("image: %s: %w", out.name, err)
		}
		if !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("image: %s: not a regular file", out.name)
		}
		if out.size != 0 && out.size != fi.Size() {
			return nil, fmt.Errorf("image: %s: %d bytes, want %d: %w", out.name, fi.Size(), out.size, ErrDigestMismatch)
		}
		out.size = fi.Size()
	case l.Open != nil:
		out.open = l.Open
	default:
		return nil, fmt.Errorf("image: %s: neither Path nor Open is set", out.name)
	}
	if l.DiffID != "" {
		h, err := parseHex(l.DiffID)
		if err != nil {
			return nil, fmt.Errorf("image: %s: %w", out.name, err)
		}
		out.diffID = h
		if out.size > 0 {
			return out, nil
		}
	}
	// Hash (and count) the content once.
	rc, err := out.open(ctx)
	if err != nil {
		return nil, fmt.Errorf("image: %s: %w", out.name, err)
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, ctxReader{ctx, rc})
	if err != nil {
		return nil, fmt.Errorf("image: %s: %w", out.name, err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if out.diffID != "" && sum != out.diffID {
		return nil, fmt.Errorf("image: %s: content hashes to sha256:%s, want sha256:%s: %w", out.name, sum, out.diffID, ErrDigestMismatch)
	}
	if out.size > 0 && n != out.size {
		return nil, fmt.Errorf("image: %s: %d bytes, want %d: %w", out.name, n, out.size, ErrDigestMismatch)
	}
	out.diffID, out.size = sum, n
	return out, nil
}

// reader opens the uncompressed tar, verified against diffID and size.
func (l *layer) reader(ctx context.Context) (io.ReadCloser, error) {
	rc, err := l.open(ctx)
	if err != nil {
		return nil, fmt.Errorf("image: %s: %w", l.name, err)
	}
	return readCloser{newVerifyReader(ctxReader{ctx, rc}, l.diffID, l.size, l.name), rc}, nil
}

// gzipLayer compresses the layer into the blob store, or finds the blob a
// previous build made. The stream is deterministic: no file name, no
// modification time, one fixed level, one goroutine.
func gzipLayer(ctx context.Context, s blobStore, l *layer, level int) (blobRef, error) {
	key := gzipKey(level, l.diffID)
	if b, ok := s.lookup(key); ok {
		return b, nil
	}
	src, err := l.reader(ctx)
	if err != nil {
		return blobRef{}, err
	}
	defer src.Close()
	pr, pw := io.Pipe()
	go func() {
		zw, err := gzip.NewWriterLevel(pw, level)
		if err == nil {
			// The zero ModTime would be written as the low 32 bits of
			// year 1; the Unix epoch is written as 0, "no time".
			zw.ModTime = time.Unix(0, 0)
			_, err = io.Copy(zw, src)
			if cerr := zw.Close(); err == nil {
				err = cerr
			}
		}
		pw.CloseWithError(err)
	}()
	b, err := s.put(ctx, pr, fmt.Sprintf("gzip of layer %.12s", strings.TrimPrefix(l.diffID, "sha256:")))
	pr.CloseWithError(io.ErrClosedPipe) // stop the writer if put gave up early
	if err != nil {
		return blobRef{}, fmt.Errorf("image: compress %s: %w", l.name, err)
	}
	if err := s.remember(key, b); err != nil {
		return blobRef{}, fmt.Errorf("image: compress %s: %w", l.name, err)
	}
	return b, nil
}
