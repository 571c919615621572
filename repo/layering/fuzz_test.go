package layering

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// FuzzSplit: whatever tar a layer holds, the split either refuses it or
// flattens back to it.
func FuzzSplit(f *testing.F) {
	t := &testing.T{}
	f.Add(buildTree(t, base, time.Unix(2e9, 0)))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			return
		}
		p, err := NewPlan(context.Background(), bytes.NewReader(data), listDB, Rules{Base: []string{"libc6", "coreutils"}, Threshold: 1})
		if err != nil {
			return
		}
		bufs := make([]bytes.Buffer, len(p.Groups))
		ws := make([]io.Writer, len(bufs))
		for i := range bufs {
			ws[i] = &bufs[i]
		}
		if err := p.Write(context.Background(), bytes.NewReader(data), ws); err != nil {
			return // e.g. a header the writer cannot encode
		}
		layers := make([][]byte, len(bufs))
		for i := range bufs {
			layers[i] = bufs[i].Bytes()
		}
		full, ok := tryFlatten(data)
		if !ok {
			return
		}
		split, ok := tryFlatten(layers...)
		if !ok {
			t.Fatal("a split layer does not read back")
		}
		if diff := cmp.Diff(full, split); diff != "" {
			t.Errorf("flattened split differs (-full +split):\n%s", diff)
		}
	})
}
