package deb

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync/atomic"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// xzCommandMin is the compressed size from which an xz member goes to the
// xz program (decompress's xzCmd) rather than Go's decoder.
const xzCommandMin = 32 << 10

// maxWindow bounds the dictionary or window a compressed member may ask the
// decoder to allocate: xz -9 uses 64 MiB, zstd --ultra -22 128 MiB.
const maxWindow = 256 << 20

// splitMember splits "data.tar.zst" into "data.tar" and ".zst".
func splitMember(name string) (base, ext string) {
	for _, e := range []string{".gz", ".xz", ".zst"} {
		if b, ok := strings.CutSuffix(name, e); ok {
			return b, e
		}
	}
	return name, ""
}

// sizeLimit bounds what one member may decompress to.
type sizeLimit struct {
	max   int64 // decompressed bytes
	ratio int64 // decompressed/compressed, checked past floor; 0 = none
	floor int64
}

// decompress returns the decompressed stream of a member compressed with
// ext, failing with ErrUnpackLimit past lim. With xzCmd set, xz members
// are decoded by that program instead of in Go.
func decompress(ctx context.Context, member, ext string, r io.Reader, lim sizeLimit, xzCmd string) (io.ReadCloser, error) {
	in := &countReader{r: r}
	var dec io.ReadCloser
	var err error
	switch ext {
	case "":
		dec = io.NopCloser(in)
	case ".gz":
		var g *gzip.Reader
		if g, err = gzip.NewReader(in); err == nil {
			dec = g
		}
	case ".zst":
		var z *zstd.Decoder
		z, err = zstd.NewReader(in, zstd.WithDecoderMaxWindow(maxWindow), zstd.WithDecoderConcurrency(1))
		if err == nil {
			dec = z.IOReadCloser()
		}
	case ".xz":
		br := bufio.NewReaderSize(in, 64<<10)
		if err = checkXZDict(br); err != nil {
			break
		}
		// A small member (a control.tar, most data.tars of a few KiB)
		// decodes in Go faster than the xz program starts.
		if _, perr := br.Peek(xzCommandMin); xzCmd != "" && perr == nil {
			dec, err = runDecompressor(ctx, xzCmd, br)
			break
		}
		var x *xz.Reader
		if x, err = xz.NewReader(br); err == nil {
			dec = io.NopCloser(x)
		}
	default:
		err = fmt.Errorf("unsupported compression %q", ext)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", member, err)
	}
	return &boundedReader{dec: dec, in: in, lim: lim, member: member}, nil
}

// countReader counts the compressed bytes read. The zstd decoder reads
// its input on a goroutine of its own, hence the atomic count.
type countReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// boundedReader is the decompression bomb guard: it fails once the output
// exceeds the size cap, or, past the floor, ratio times the input read.
type boundedReader struct {
	dec    io.ReadCloser
	in     *countReader
	n      int64
	lim    sizeLimit
	member string
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if rest := b.lim.max + 1 - b.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := b.dec.Read(p)
	b.n += int64(n)
	switch {
	case b.n > b.lim.max:
		return n, fmt.Errorf("%s: %w: decompresses to more than %d bytes", b.member, ErrUnpackLimit, b.lim.max)
	case b.lim.ratio > 0 && b.n > b.lim.floor && b.n > b.lim.ratio*b.in.n.Load():
		return n, fmt.Errorf("%s: %w: %d bytes from %d compressed, more than %d:1", b.member, ErrUnpackLimit, b.n, b.in.n.Load(), b.lim.ratio)
	case err != nil && err != io.EOF:
		err = fmt.Errorf("%s: decompress: %w", b.member, err)
	}
	return n, err
}

func (b *boundedReader) Close() error { return b.dec.Close() }

// checkXZDict refuses an xz stream whose first block asks for a dictionary
// larger than maxWindow, before the decoder allocates it.
func checkXZDict(br *bufio.Reader) error {
	head, _ := br.Peek(12 + 1024)
	if len(head) < 13 || !bytes.HasPrefix(head, []byte("\xfd7zXZ\x00")) {
		return nil // not ours to judge: the decoder reports it
	}
	blk := head[12:]
	size := (int(blk[0]) + 1) * 4
	if blk[0] == 0 || len(blk) < size {
		return nil // empty stream, or a header the decoder will refuse
	}
	flags := blk[1]
	p := blk[2:size]
	skip := func() bool { // one varint
		_, n := binary.Uvarint(p)
		if n <= 0 {
			return false
		}
		p = p[n:]
		return true
	}
	if flags&0x40 != 0 && !skip() || flags&0x80 != 0 && !skip() {
		return nil
	}
	for i := 0; i <= int(flags&3); i++ {
		id, n := binary.Uvarint(p)
		if n <= 0 {
			return nil
		}
		p = p[n:]
		psize, n := binary.Uvarint(p)
		if n <= 0 || uint64(len(p)-n) < psize {
			return nil
		}
		props := p[n : n+int(psize)]
		p = p[n+int(psize):]
		if id == 0x21 && len(props) == 1 {
			if d := xzDictSize(props[0]); d > maxWindow {
				return fmt.Errorf("%w: xz dictionary of %d bytes, more than %d", ErrUnpackLimit, d, maxWindow)
			}
		}
	}
	return nil
}

func xzDictSize(code byte) uint64 {
	if code >= 40 {
		return 1<<32 - 1
	}
	return uint64(2|code&1) << (code/2 + 11)
}

// cmdReader streams a decompressor program's output; its exit status is
// checked at EOF and on Close.
type cmdReader struct {
	cmd    *exec.Cmd
	out    io.ReadCloser
	stderr *bytes.Buffer
	done   bool
}

func runDecompressor(ctx context.Context, prog string, in io.Reader) (io.ReadCloser, error) {
	cmd := exec.CommandContext(ctx, prog, "-dc")
	cmd.Stdin = in
	var stderr bytes.Buffer
	cmd.Stderr = &limitedBuffer{b: &stderr, max: 4096}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", prog, err)
	}
	return &cmdReader{cmd: cmd, out: out, stderr: &stderr}, nil
}

func (c *cmdReader) Read(p []byte) (int, error) {
	n, err := c.out.Read(p)
	if err == io.EOF {
		if werr := c.wait(); werr != nil {
			return n, werr
		}
	}
	return n, err
}

func (c *cmdReader) wait() error {
	if c.done {
		return nil
	}
	c.done = true
	if err := c.cmd.Wait(); err != nil {
		return fmt.Errorf("%s: %w: %s", c.cmd.Path, err, strings.TrimSpace(c.stderr.String()))
	}
	return nil
}

// Close stops the program if it is still running.
func (c *cmdReader) Close() error {
	if c.done {
		return nil
	}
	c.cmd.Process.Kill()
	c.out.Close()
	err := c.wait()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return nil // killed on purpose
	}
	return err
}

type limitedBuffer struct {
	b   *bytes.Buffer
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if rest := l.max - l.b.Len(); rest > 0 {
		l.b.Write(p[:min(len(p), rest)])
	}
	return len(p), nil
}

// drain reads a member's decompressed stream to its end, so that the
// decompressor checks its trailer (CRC, checksum) and limits still apply.
func drain(member string, r io.Reader) error {
	if _, err := io.Copy(io.Discard, r); err != nil {
		return fmt.Errorf("%s: after the tar end: %w", member, err)
	}
	return nil
}

// ctxReader fails reads once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
