package deb

import (
	"bytes"
	"context"
	"io"
	"slices"
	"strconv"
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
				var b bytes.Buffer
				err := a.decodeMember(context.Background(), &b, "data.tar.zst", ".zst", r, sizeLimit{max: 1 << 20})
				if err != nil || b.Len() != 8000 {
					t.Errorf("decode: %d bytes, %v", b.Len(), err)
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

// TestPrefetchWindow: the package the unpacker waits for starts first,
// then the costliest in the window (an xz data.tar before zstd ones of
// the same size); the window's bytes hold further starts back until the
// unpacker takes a package, and cancelling ends it.
func TestPrefetchWindow(t *testing.T) {
	pkg := func(kib, member string) *instPkg {
		return &instPkg{fields: []ctlField{{"Installed-Size", kib}}, dataMember: member}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	next := func(w *window) int {
		t.Helper()
		got := make(chan int, 1)
		go func() {
			i, ok := w.next(ctx)
			if !ok {
				i = -1
			}
			got <- i
		}()
		select {
		case i := <-got:
			return i
		case <-time.After(10 * time.Second):
			t.Fatal("next blocked")
			return -2
		}
	}
	w := newWindow([]*instPkg{pkg("100", "data.tar.zst"), pkg("100", "data.tar.zst"), pkg("100", "data.tar.zst"), pkg("100", "data.tar.xz"), pkg("100", "data.tar.zst")}, 1)
	var order []int
	for range 5 {
		order = append(order, next(w))
		w.done()
	}
	if want := []int{0, 3, 1, 2, 4}; !slices.Equal(order, want) {
		t.Errorf("start order %v, want %v", order, want)
	}
	if i := next(w); i != -1 {
		t.Errorf("after every package: next = %d, want the end", i)
	}

	// Two packages of 5/8 of the window do not fit in it together.
	big := strconv.Itoa(prefetchBytes / 1024 * 5 / 8)
	w = newWindow([]*instPkg{pkg(big, "data.tar.zst"), pkg(big, "data.tar.zst"), pkg("10", "data.tar.zst")}, 4)
	if i := next(w); i != 0 {
		t.Fatalf("first = %d", i)
	}
	held := make(chan int, 1)
	go func() { i, _ := w.next(ctx); held <- i }()
	select {
	case i := <-held:
		if i != 2 {
			t.Errorf("while package 0 waits in memory, started %d; want only the small 2", i)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the small package did not start")
	}
	go func() { i, _ := w.next(ctx); held <- i }()
	select {
	case i := <-held:
		t.Fatalf("package %d started beyond the window's bytes", i)
	case <-time.After(50 * time.Millisecond):
	}
	w.take(0)
	select {
	case i := <-held:
		if i != 1 {
			t.Errorf("after take(0): started %d, want 1", i)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("take did not open the window")
	}
	// Cancelling ends a waiting next.
	w = newWindow([]*instPkg{pkg("10", ""), pkg("10", "")}, 1)
	next(w) // a worker busy: the next call waits
	go func() { _, ok := w.next(ctx); held <- map[bool]int{true: 1, false: -1}[ok] }()
	cancel()
	select {
	case i := <-held:
		if i != -1 {
			t.Error("next after cancel returned a package")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("cancel did not end next")
	}
	if got := w.unstarted(); !slices.Equal(got, []int{1}) {
		t.Errorf("unstarted = %v, want [1]", got)
	}
}
