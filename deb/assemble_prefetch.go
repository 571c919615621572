package deb

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"

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
//
// The decoders may run ahead of the unpacker by up to prefetchAhead
// packages and prefetchBytes of (estimated) decoded data. Within that
// window, after the package the unpacker needs next, the costliest decode
// starts first: one xz data.tar (dpkg's own
// package in Ubuntu, every package in Debian) takes several times longer
// per byte than zstd, and started in unpack order it would be the tail
// the unpacker waits for at the end.

// prefetchMax bounds a data.tar decoded ahead into memory.
const prefetchMax = 64 << 20

// The prefetch window: packages and estimated decoded bytes that may be
// decoded or decoding ahead of the unpacker. The package the unpacker
// waits for next is always allowed, whatever its size.
const (
	prefetchAhead = 64
	prefetchBytes = 24 << 20
)

// prefetched is a package decoded ahead: a .deb with an uncompressed data.tar,
// or nil to stream the original. dataFile, when set, is an open cached file
// that holds exactly the data.tar (dataSize bytes), for which deb has an
// empty member at dataAt (see memDeb); the unpacker hands it to the tree,
// which closes it.
type prefetched struct {
	deb        []byte
	dataFile   *os.File
	dataDigest string // the cache's digest of dataFile
	dataAt     int64
	dataSize   int64
}

// prefetch starts decoding pkgs and returns one channel per package, each
// delivering exactly one result. take(i) tells it that the unpacker has
// received package i, which frees its room in the window. Cancelling ctx
// stops it: every package not yet started is delivered as nil.
func (a *assembler) prefetch(ctx context.Context, pkgs []*instPkg, open func(repo.Planned) (io.ReadCloser, error)) (results []chan prefetched, take func(i int)) {
	workers := min(max(runtime.GOMAXPROCS(0), 1), 4)
	a.zstd = make(chan *zstd.Decoder, workers)
	results = make([]chan prefetched, len(pkgs))
	for i := range results {
		results[i] = make(chan prefetched, 1)
	}
	w := newWindow(pkgs, workers)
	go func() {
		for {
			i, ok := w.next(ctx)
			if !ok {
				break
			}
			go func(i int) {
				results[i] <- a.decodeDeb(ctx, pkgs[i], open)
				w.done()
			}(i)
		}
		for _, i := range w.unstarted() {
			results[i] <- prefetched{}
		}
	}()
	return results, w.take
}

// window schedules the prefetch: which package to decode next, and when.
type window struct {
	mu       sync.Mutex
	cond     *sync.Cond
	est      []int64 // estimated decoded bytes
	cost     []int64 // est weighted by the decoder's speed
	started  []bool
	taken    int   // packages the unpacker has received: 0..taken-1
	ahead    int64 // est of the started packages not yet taken
	running  int
	workers  int
	finished bool // every package started, or cancelled
}

func newWindow(pkgs []*instPkg, workers int) *window {
	w := &window{est: make([]int64, len(pkgs)), cost: make([]int64, len(pkgs)), started: make([]bool, len(pkgs)), workers: workers}
	w.cond = sync.NewCond(&w.mu)
	for i, p := range pkgs {
		w.est[i] = int64(sizeHint(p))
		w.cost[i] = w.est[i] * decodeCost(p.dataMember)
	}
	return w
}

// decodeCost is the relative time per decoded byte of a data member's
// compression.
func decodeCost(member string) int64 {
	switch _, ext := splitMember(member); ext {
	case ".xz", ".lzma", ".bz2":
		return 8
	case ".gz":
		return 2
	}
	return 1
}

// next blocks until a worker is free and a package fits in the window,
// and returns it: the one the unpacker waits for if it is not started,
// else the costliest unstarted one in the window. It returns false when
// every package is started or ctx is done.
func (w *window) next(ctx context.Context) (int, bool) {
	stop := context.AfterFunc(ctx, func() {
		w.mu.Lock()
		w.finished = true
		w.mu.Unlock()
		w.cond.Broadcast()
	})
	defer stop()
	w.mu.Lock()
	defer w.mu.Unlock()
	for {
		if w.finished {
			return 0, false
		}
		if w.running < w.workers {
			best, open := -1, false
			for i := w.taken; i < len(w.est) && i < w.taken+prefetchAhead; i++ {
				if w.started[i] {
					continue
				}
				open = true
				// The package the unpacker waits for is never held
				// back by size: what waits ahead of it cannot be taken
				// before it.
				if i == w.taken {
					best = i
					break
				}
				fits := w.ahead+w.est[i] <= prefetchBytes
				if fits && (best < 0 || w.cost[i] > w.cost[best]) {
					best = i
				}
			}
			if best >= 0 {
				w.started[best] = true
				w.ahead += w.est[best]
				w.running++
				return best, true
			}
			if !open && w.allStarted() {
				w.finished = true
				return 0, false
			}
		}
		w.cond.Wait()
	}
}

func (w *window) allStarted() bool {
	for i := w.taken; i < len(w.started); i++ {
		if !w.started[i] {
			return false
		}
	}
	return true
}

// done is called by a worker when its package is decoded.
func (w *window) done() {
	w.mu.Lock()
	w.running--
	w.mu.Unlock()
	w.cond.Broadcast()
}

// take is called by the unpacker when it has received package i, in order.
func (w *window) take(i int) {
	w.mu.Lock()
	w.taken = i + 1
	if w.started[i] {
		w.ahead -= w.est[i]
	}
	w.mu.Unlock()
	w.cond.Broadcast()
}

// unstarted lists the packages never started, after next returned false.
func (w *window) unstarted() []int {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []int
	for i, s := range w.started {
		if !s {
			out = append(out, i)
		}
	}
	return out
}

// decodeDeb reads p's .deb and returns it with data.tar decompressed, or
// nil when that is not possible within the limits. The data.tar is
// decoded straight into the returned buffer, sized once from the
// package's Installed-Size.
func (a *assembler) decodeDeb(ctx context.Context, p *instPkg, open func(repo.Planned) (io.ReadCloser, error)) (res prefetched) {
	rc, err := open(p.planned)
	if err != nil {
		return prefetched{}
	}
	defer rc.Close()
	lim := a.opt.Limits.withDefaults()
	ar, err := NewArReader(ctxReader{ctx, rc}, 0)
	if err != nil {
		return prefetched{}
	}
	defer func() {
		if res.deb == nil && res.dataFile != nil {
			res.dataFile.Close()
			res.dataFile = nil
		}
	}()
	// Sized for the data.tar only when it is decoded into it: a cached
	// one stays in its file.
	out := bytes.NewBuffer(make([]byte, 0, 64<<10))
	out.WriteString(arMagic)
	for {
		h, err := ar.Next()
		if err == io.EOF {
			break
		}
		if err != nil || h.Size > prefetchMax {
			return prefetched{}
		}
		base, ext := splitMember(h.Name)
		if base == "control.tar" && ext != "" {
			// Decoded here with the shared decoders, so that Unpack
			// needs no decoder (and its window) of its own.
			at := writeArHeader(out, base)
			limit := sizeLimit{max: lim.MaxControl, ratio: lim.MaxRatio, floor: lim.RatioFloor}
			if err := a.decodeMember(ctx, out, h.Name, ext, ar, limit); err != nil {
				return prefetched{}
			}
			endArMember(out, at)
			continue
		}
		if base != "data.tar" || ext == "" {
			at := writeArHeader(out, h.Name)
			if n, err := out.ReadFrom(ar); err != nil || n != h.Size {
				return prefetched{}
			}
			endArMember(out, at)
			continue
		}
		limit := sizeLimit{max: min(lim.MaxData, prefetchMax), ratio: lim.MaxRatio, floor: lim.RatioFloor}
		at := writeArHeader(out, base)
		res.dataAt = int64(at)
		if res.dataFile != nil {
			return prefetched{} // a second data.tar: let Unpack refuse it
		}
		// A data.tar held in a cached file stays there: the member is
		// left empty and stands for the file (memDeb).
		if f, digest, size, ok := a.cachedData(ctx, p, limit.max); ok { // assemble_datacache.go
			res.dataFile, res.dataDigest, res.dataSize = f, digest, size
			endArMember(out, at)
			continue
		}
		out.Grow(sizeHint(p))
		if err := a.decodeMember(ctx, out, h.Name, ext, ar, limit); err != nil {
			return prefetched{}
		}
		if f, digest := a.keepData(ctx, p, out.Bytes()[at:]); f != nil {
			res.dataFile, res.dataDigest, res.dataSize = f, digest, int64(out.Len()-at)
			out.Truncate(at)
		}
		endArMember(out, at)
	}
	res.deb = trimBuffer(out.Bytes())
	return res
}

// arSizeField is where an ar member header holds the member's size.
const arSizeField = 48

// writeArHeader appends a member header as dpkg-deb writes them, with the
// size left to endArMember, and returns where the member's data starts.
func writeArHeader(b *bytes.Buffer, name string) int {
	fmt.Fprintf(b, "%-16s%-12d%-6d%-6d%-8o%-10d`\n", name, 0, 0, 0, 0o100644, 0)
	return b.Len()
}

// endArMember fills in the size of the member whose data started at at,
// and pads it to an even length.
func endArMember(b *bytes.Buffer, at int) {
	n := b.Len() - at
	copy(b.Bytes()[at-arHeaderSize+arSizeField:at-2], fmt.Sprintf("%-10d", n))
	if n%2 == 1 {
		b.WriteByte('\n')
	}
}

// sizeHint is what a package's data.tar will roughly decompress to, from
// its Installed-Size (KiB) and its number of files (md5sums lines; a tar
// entry takes a 512-byte header and pads to 512), to size the buffer once:
// a buffer that grows doubles, and the slack stays as long as the tree
// borrows from it.
func sizeHint(p *instPkg) int {
	kib, err := strconv.ParseInt(strings.TrimSpace(p.field("Installed-Size")), 10, 64)
	if err != nil || kib <= 0 || kib > prefetchMax>>10 {
		return 1 << 20
	}
	files := int64(bytes.Count(p.ctl["md5sums"].data, []byte("\n")))
	return int(kib<<10 + kib<<2 + files<<10 + 64<<10)
}

// trimBuffer returns b in a buffer of its own size when b's buffer is
// more than a MiB larger (the hint was short and it grew).
func trimBuffer(b []byte) []byte {
	if cap(b)-len(b) > 1<<20 {
		return bytes.Clone(b)
	}
	return b
}

// decodeMember decompresses a data.tar member within limit, appending it
// to dst. zstd members, most of Ubuntu's and Debian's, go through decoders
// kept for the whole assembly: a new decoder per member would allocate and
// clear its window (up to 8 MiB for dpkg-deb's level) for every package.
func (a *assembler) decodeMember(ctx context.Context, dst *bytes.Buffer, member, ext string, r io.Reader, limit sizeLimit) error {
	if ext == ".zst" {
		if zd, err := a.zstdDecoder(); err == nil {
			defer a.putDecoder(zd)
			in := &countReader{r: ctxReader{ctx, r}}
			if err := zd.Reset(in); err != nil {
				return err
			}
			_, err := dst.ReadFrom(&boundedReader{dec: io.NopCloser(zd), in: in, lim: limit, member: member})
			return err
		}
	}
	dec, err := decompress(ctx, member, ext, r, limit, a.opt.XZCommand)
	if err != nil {
		return err
	}
	defer dec.Close()
	_, err = dst.ReadFrom(dec)
	return err
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
