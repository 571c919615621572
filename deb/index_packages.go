package deb

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"path"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/ulikunitz/xz"

	"github.com/rootfsd/rootfsd/repo"
)

// Errors of index downloads that callers branch on.
var (
	// ErrHashMismatch is a downloaded index whose SHA256 or size is not
	// the one the signed Release gives.
	ErrHashMismatch = errors.New("does not match the Release")
	// ErrIndexTooLarge is an index that decompresses beyond the caps.
	ErrIndexTooLarge = errors.New("index too large")
)

// component makes one component's uncompressed Packages present in the
// cache: from the cache when it already holds the digest the Release
// names, else downloaded (by-hash when the archive offers it) and checked.
func (fx *suiteFetch) component(ctx context.Context, comp string) (PackagesFile, error) {
	p := comp + "/binary-" + fx.s.Arch + "/Packages"
	ci := PackagesFile{Component: comp, Path: p}
	plain, hasPlain := fx.rel.File(p)
	if !hasPlain && fx.rec != nil && fx.rec.Digest == fx.digest {
		// The Release gives no uncompressed digest; the one computed when
		// this same Release was fetched stands in.
		if ref, ok := fx.rec.Packages[p]; ok {
			plain, hasPlain = ReleaseFile{Path: p, Size: ref.Size, SHA256: ref.Digest}, true
		}
	}
	if hasPlain && fx.cache.Has(plain.SHA256) {
		ci.Digest, ci.Size, ci.Cached = plain.SHA256, plain.Size, true
		fx.report.Report(repo.Event{Kind: repo.EventIndex, Name: fx.s.Name + "/" + p, Current: plain.Size, Total: plain.Size, Cached: true})
		return ci, nil
	}
	if fx.opt.Offline {
		return ci, fmt.Errorf("offline, and the cache does not hold %s", p)
	}
	var last error
	// The variants in the order they are preferred: fastest to fetch and
	// decompress first. gzip decodes several times faster than xz, which
	// more than pays for its larger download.
	for _, ext := range []string{".gz", ".xz", ""} {
		file, ok := fx.rel.File(p + ext)
		if !ok {
			continue
		}
		urls := []string{fx.base + p + ext}
		if fx.rel.AcquireByHash {
			// A mirror caught mid-sync may lack the by-hash file: the
			// plain path, checked against the same hash, is the fallback.
			urls = append([]string{fx.base + path.Dir(p) + "/by-hash/SHA256/" + file.SHA256}, urls...)
		}
		for _, u := range urls {
			d, n, err := fx.download(ctx, u, ext, file, plain, hasPlain)
			if err == nil {
				ci.Digest, ci.Size = d, n
				return ci, nil
			}
			if !errors.Is(err, repo.ErrNotFound) {
				return ci, err
			}
			last = err
		}
	}
	return ci, last
}

// download streams one compressed variant through its SHA256 check and
// the decompressor into the cache. The compressed digest is checked when
// the stream ends, before the cache may keep anything, and the cache
// itself checks the uncompressed digest when the Release gives it.
func (fx *suiteFetch) download(ctx context.Context, url, ext string, file, plain ReleaseFile, hasPlain bool) (digest string, n int64, err error) {
	maxSize := fx.opt.MaxIndexSize
	if maxSize <= 0 {
		maxSize = DefaultMaxIndexSize
	}
	ratio := fx.opt.MaxRatio
	if ratio <= 0 {
		ratio = DefaultMaxRatio
	}
	want, size := "", int64(-1)
	limit := maxSize
	if hasPlain {
		if plain.Size > maxSize {
			return "", 0, fmt.Errorf("%s: %w: %d bytes, at most %d", plain.Path, ErrIndexTooLarge, plain.Size, maxSize)
		}
		want, size, limit = plain.SHA256, plain.Size, plain.Size
	} else if ext != "" && file.Size < limit/ratio {
		limit = file.Size * ratio
	}
	name := fx.s.Name + "/" + file.Path
	opt := repo.GetOptions{Size: file.Size, Kind: repo.EventIndex, Name: name}
	if file.Size == 0 {
		// Size 0 means "unknown" to the fetcher: cap the body instead;
		// the checks below refuse anything but the empty file.
		opt.MaxSize = 1
	}
	err = fx.f.Stream(ctx, url, opt, func(body io.Reader) error {
		var content io.Reader = body
		if ext != "" {
			vr := &sumReader{r: body, h: sha256.New(), file: file}
			content = &decoded{ext: ext, src: vr}
		}
		content = &capReader{r: content, limit: limit, name: file.Path}
		var err error
		// Kept decompressed: labelled with the plain file's name.
		label := fx.s.Name + "/" + strings.TrimSuffix(file.Path, ext)
		digest, n, err = repo.PutLabeled(ctx, fx.cache, content, want, size, repo.BlobIndex, label)
		return err
	})
	return digest, n, err
}

// sumReader hashes what passes and, at EOF, records whether it matched.
type sumReader struct {
	r    io.Reader
	h    hash.Hash
	n    int64
	file ReleaseFile
	err  error // the verdict, set at EOF
}

func (s *sumReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.h.Write(p[:n])
	s.n += int64(n)
	if err == io.EOF {
		if got := hex.EncodeToString(s.h.Sum(nil)); got != s.file.SHA256 || s.n != s.file.Size {
			s.err = fmt.Errorf("%s: %w: sha256 %s (%d bytes), Release says %s (%d bytes)", s.file.Path, ErrHashMismatch, got, s.n, s.file.SHA256, s.file.Size)
		}
	}
	return n, err
}

// decoded decompresses src and ends with src's verdict instead of EOF:
// the cache must not keep content whose compressed form did not match.
type decoded struct {
	ext string
	src *sumReader
	dec io.Reader
}

func (d *decoded) Read(p []byte) (int, error) {
	if d.dec == nil {
		var err error
		switch d.ext {
		case ".gz":
			d.dec, err = gzip.NewReader(d.src)
		case ".xz":
			// An xz header sets the decoder's dictionary size, up to
			// GiBs: only a stream that matched the signed digest is
			// decoded. It is the fallback when there is no .gz, and
			// compressed indexes are a few MB.
			var buf []byte
			if buf, err = io.ReadAll(d.src); err == nil {
				if d.src.err != nil {
					return 0, d.src.err
				}
				d.dec, err = xz.NewReader(bytes.NewReader(buf))
			}
		default:
			err = fmt.Errorf("unknown compression %q", d.ext)
		}
		if err != nil {
			return 0, d.fail(err)
		}
	}
	n, err := d.dec.Read(p)
	if err == io.EOF {
		// Whatever follows the compressed stream still counts towards
		// the digest.
		if _, err := io.Copy(io.Discard, d.src); err != nil {
			return n, err
		}
		if d.src.err != nil {
			return n, d.src.err
		}
	} else if err != nil {
		return n, d.fail(err)
	}
	return n, err
}

// fail reports a decompression error, or the digest mismatch that
// explains it when the rest of the download shows one.
func (d *decoded) fail(err error) error {
	if _, cerr := io.Copy(io.Discard, d.src); cerr == nil && d.src.err != nil {
		return d.src.err
	}
	return fmt.Errorf("%s: decompress %s: %w", d.src.file.Path, d.ext, err)
}

// capReader fails once more than limit bytes came out of a decompressor.
type capReader struct {
	r     io.Reader
	n     int64
	limit int64
	name  string
}

func (c *capReader) Read(p []byte) (int, error) {
	if rest := c.limit + 1 - c.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > c.limit {
		return n, fmt.Errorf("%s: %w: decompresses to more than %d bytes", c.name, ErrIndexTooLarge, c.limit)
	}
	return n, err
}
