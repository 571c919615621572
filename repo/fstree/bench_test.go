package fstree

import (
	"archive/tar"
	"fmt"
	"io"
	"strings"
	"testing"
)

// benchEntries is a merged-/usr tree of 10,000 files of 0.5-8 KiB in 100
// directories, added through the bin -> usr/bin link half of the time.
func benchEntries() []entry {
	es := []entry{dir("usr/"), dir("usr/bin/"), symlink("bin", "usr/bin").by("base")}
	for d := 0; d < 100; d++ {
		es = append(es, dir(fmt.Sprintf("usr/bin/d%03d/", d)))
		for f := 0; f < 100; f++ {
			prefix := "usr/bin"
			if f%2 == 1 {
				prefix = "bin"
			}
			es = append(es, file(fmt.Sprintf("%s/d%03d/f%03d", prefix, d, f), strings.Repeat("x", 512*(1+f%16))))
		}
	}
	return es
}

func BenchmarkAdd(b *testing.B) {
	es := benchEntries()
	hdrs := make([]*tar.Header, len(es))
	for i, e := range es {
		hdrs[i] = e.header()
	}
	tmp := b.TempDir()
	b.ReportAllocs()
	for b.Loop() {
		tr := New(Options{TempDir: tmp})
		for i, h := range hdrs {
			owner := es[i].owner
			if owner == "" {
				owner = "p"
			}
			if _, err := tr.Add(h, strings.NewReader(es[i].body), owner); err != nil {
				b.Fatal(err)
			}
		}
		tr.Close()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(es)), "ns/entry")
}

func BenchmarkWriteTar(b *testing.B) {
	tr := newTree(b, Options{}, benchEntries()...)
	var size int64
	for b.Loop() {
		cw := &countWriter{}
		if err := tr.WriteTar(cw, TarOptions{}); err != nil {
			b.Fatal(err)
		}
		size = cw.n
	}
	b.SetBytes(size)
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

var _ io.Writer = (*countWriter)(nil)
