package layering

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// BenchmarkSplit plans and writes the split of a 32 MiB layer of 2,000
// files in 20 packages (both passes over the tar).
func BenchmarkSplit(b *testing.B) {
	t := &testing.T{}
	var files []file
	body := strings.Repeat("x", 16<<10)
	for i := range 2000 {
		pkg := fmt.Sprintf("pkg%02d", i%20)
		files = append(files, file{pkg, fmt.Sprintf("usr/lib/%s/f%04d", pkg, i), body})
	}
	full := buildTree(t, files, time.Unix(2e9, 0))
	rules := Rules{Base: []string{"pkg00", "pkg01", "pkg02"}, Threshold: 1 << 20}
	ws := make([]io.Writer, 0, 32)
	b.SetBytes(int64(len(full)))
	b.ResetTimer()
	for range b.N {
		p, err := NewPlan(context.Background(), bytes.NewReader(full), listDB, rules)
		if err != nil {
			b.Fatal(err)
		}
		ws = ws[:0]
		for range p.Groups {
			ws = append(ws, io.Discard)
		}
		if err := p.Write(context.Background(), bytes.NewReader(full), ws); err != nil {
			b.Fatal(err)
		}
	}
}
