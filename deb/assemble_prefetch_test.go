package deb

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/rootfsd/rootfsd/deb/internal/debtest"
)

// barrierReader blocks its first Read until every reader of the group has
// started, so that all of them hold a decoder at once.
type barrierReader struct {
	r    io.Reader
	once sync.Once
	wg   *sync.WaitGroup
}

func (b *barrierReader) Read(p []byte) (int, error) {
	b.once.Do(func() { b.wg.Done(); b.wg.Wait() })
	return b.r.Read(p)
}

// TestDecoderPoolNeverBlocks: more decoders in use than the pool holds
// must all come back without blocking the prefetchers.
func TestDecoderPoolNeverBlocks(t *testing.T) {
	a := &assembler{zstd: make(chan *zstd.Decoder, 2)}
	data := debtest.Compressed(t, ".zst", []byte(strings.Repeat("payload ", 1000)))
	const n = 5
	var wg, started sync.WaitGroup
	started.Add(n)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := &barrierReader{r: bytes.NewReader(data), wg: &started}
				b, err := a.decodeMember(context.Background(), "data.tar.zst", ".zst", r, sizeLimit{max: 1 << 20}, 0)
				if err != nil || len(b) != 8000 {
					t.Errorf("decode: %d bytes, %v", len(b), err)
				}
			}()
		}
		wg.Wait()
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("decoders did not come back: a prefetcher is blocked")
	}
	a.closeDecoders()
}

// TestAssembleCompressions assembles packages in every compression dpkg
// writes, through the prefetchers and the streaming fallback alike.
func TestAssembleCompressions(t *testing.T) {
	var debs []debtest.Deb
	for i, ext := range []string{"", ".gz", ".xz", ".zst", ".zst", ".zst", ".xz", ".gz", ".zst"} {
		name := "pkg" + string(rune('a'+i))
		debs = append(debs, debtest.Deb{Package: name, Compression: ext,
			Data: append(asmDirs("usr/share/"+name), asmFile("./usr/share/"+name+"/data", strings.Repeat(name, 5000)))})
	}
	tr, _ := mustAssemble(t, AssembleOptions{}, debs...)
	for _, d := range debs {
		if got := readTree(t, tr, "usr/share/"+d.Package+"/data"); got != strings.Repeat(d.Package, 5000) {
			t.Errorf("%s: %d bytes", d.Package, len(got))
		}
	}
	// A data.tar over the limits falls back to Unpack, which refuses it.
	bomb := debtest.Deb{Package: "bomb", Compression: ".zst", Data: append(asmDirs("usr"), asmFile("./usr/zeros", strings.Repeat("\x00", 8<<20)))}
	if _, _, err := assemble(t, AssembleOptions{Limits: UnpackLimits{MaxRatio: 10, RatioFloor: 1 << 20}}, bomb); err == nil || !strings.Contains(err.Error(), "unpack limit") {
		t.Errorf("bomb: %v", err)
	}
}
