package deb

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"

	"github.com/klauspost/compress/zstd"

	"github.com/rootfsd/rootfsd/repo"
)

// Unpacking is sequential, the tree being one structure; decompressing
// is most of its cost and needs no tree. So the packages are decoded ahead
// of the unpacker, a few at a time on their own goroutines: each .deb is
// read and rewritten in memory with its data.tar decompressed (within the
// same size and ratio limits), and Unpack then only parses tar. A package
// whose data.tar is larger than prefetchMax, or anything that goes wrong,
// falls back to streaming the original through Unpack, which reports
// errors as usual.

// prefetchMax bounds a data.tar decoded ahead into memory.
const prefetchMax = 64 << 20

// prefetched is a package decoded ahead: a .deb with an uncompressed data.tar,
// or nil to stream the original.
type prefetched struct {
	deb []byte
}

// prefetch starts decoding pkgs in their order and returns one
// channel per package. At most workers+1 decoded packages wait in memory;
// take releases a slot. Cancelling ctx stops it.
func (a *assembler) prefetch(ctx context.Context, pkgs []*instPkg, open func(repo.Planned) (io.ReadCloser, error)) (results []chan prefetched, take func()) {
	workers := min(max(runtime.GOMAXPROCS(0), 1), 4)
	a.zstd = make(chan *zstd.Decoder, workers)
	results = make([]chan prefetched, len(pkgs))
	for i := range results {
		results[i] = make(chan prefetched, 1)
	}
	slots := make(chan struct{}, workers+1)
	go func() {
		for i, p := range pkgs {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				for _, ch := range results[i:] {
					ch <- prefetched{}
				}
				return
			}
			go func(i int, p *instPkg) {
				results[i] <- prefetched{deb: a.decodeDeb(ctx, p, open)}
			}(i, p)
		}
	}()
	return results, func() { <-slots }
}

// decodeDeb reads p's .deb and returns it with data.tar decompressed, or
// nil when that is not possible within the limits.
func (a *assembler) decodeDeb(ctx context.Context, p *instPkg, open func(repo.Planned) (io.ReadCloser, error)) []byte {
	rc, err := open(p.planned)
	if err != nil {
		return nil
	}
	defer rc.Close()
	lim := a.opt.Limits.withDefaults()
	ar, err := NewArReader(ctxReader{ctx, rc}, 0)
	if err != nil {
		return nil
	}
	var out bytes.Buffer
	out.WriteString(arMagic)
	for {
		h, err := ar.Next()
		if err == io.EOF {
			break
		}
		if err != nil || h.Size > prefetchMax {
			return nil
		}
		base, ext := splitMember(h.Name)
		if base != "data.tar" || ext == "" {
			body := make([]byte, h.Size)
			if _, err := io.ReadFull(ar, body); err != nil {
				return nil
			}
			writeArMember(&out, h.Name, body)
			continue
		}
		limit := sizeLimit{max: min(lim.MaxData, prefetchMax), ratio: lim.MaxRatio, floor: lim.RatioFloor}
		body, err := a.decodeMember(ctx, h.Name, ext, ar, limit, sizeHint(p))
		if err != nil {
			return nil
		}
		writeArMember(&out, base, body)
	}
	return out.Bytes()
}

// writeArMember appends one member as dpkg-deb writes them.
func writeArMember(b *bytes.Buffer, name string, data []byte) {
	fmt.Fprintf(b, "%-16s%-12d%-6d%-6d%-8o%-10d`\n", name, 0, 0, 0, 0o100644, len(data))
	b.Write(data)
	if len(data)%2 == 1 {
		b.WriteByte('\n')
	}
}

// sizeHint is what a package's data.tar will roughly decompress to, from
// its Installed-Size (KiB), to size the buffer once.
func sizeHint(p *instPkg) int {
	kib, err := strconv.ParseInt(strings.TrimSpace(p.field("Installed-Size")), 10, 64)
	if err != nil || kib <= 0 || kib > prefetchMax>>10 {
		return 1 << 20
	}
	return int(kib<<10 + kib<<2 + 64<<10) // plus room for tar headers
}

// decodeMember decompresses a data.tar member within limit into memory.
// zstd members, most of Ubuntu's and Debian's, go through decoders kept for
// the whole assembly: a new decoder per member would allocate and clear
// its window (up to 8 MiB for dpkg-deb's level) for every package.
func (a *assembler) decodeMember(ctx context.Context, member, ext string, r io.Reader, limit sizeLimit, hint int) ([]byte, error) {
	if ext == ".zst" {
		if zd, err := a.zstdDecoder(); err == nil {
			defer a.putDecoder(zd)
			in := &countReader{r: ctxReader{ctx, r}}
			if err := zd.Reset(in); err != nil {
				return nil, err
			}
			return readAll(&boundedReader{dec: io.NopCloser(zd), in: in, lim: limit, member: member}, hint)
		}
	}
	dec, err := decompress(ctx, member, ext, r, limit, a.opt.XZCommand)
	if err != nil {
		return nil, err
	}
	defer dec.Close()
	return readAll(dec, hint)
}

// readAll reads r into a buffer of capacity hint to begin with.
func readAll(r io.Reader, hint int) ([]byte, error) {
	buf := bytes.NewBuffer(make([]byte, 0, hint))
	if _, err := buf.ReadFrom(r); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// zstdDecoder takes a decoder from the assembly's pool, or makes one. It
// is single-threaded: the prefetchers decode several packages at once.
func (a *assembler) zstdDecoder() (*zstd.Decoder, error) {
	select {
	case zd := <-a.zstd:
		return zd, nil
	default:
	}
	return zstd.NewReader(nil, zstd.WithDecoderMaxWindow(maxWindow), zstd.WithDecoderConcurrency(1))
}

// putDecoder returns a decoder to the pool, or closes it when the pool is
// full: a put must never block, or a prefetcher would never deliver.
func (a *assembler) putDecoder(zd *zstd.Decoder) {
	select {
	case a.zstd <- zd:
	default:
		zd.Close()
	}
}

// closeDecoders releases the pool.
func (a *assembler) closeDecoders() {
	for {
		select {
		case zd := <-a.zstd:
			zd.Close()
		default:
			return
		}
	}
}
