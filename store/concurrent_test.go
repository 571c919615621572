package store

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"
	"testing"
)

// Goroutines putting, reading, referencing, pruning and verifying one
// store at once leave it consistent.
func TestConcurrentGoroutines(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, Options{})
	const workers, rounds = 8, 15
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				data := content(uint64(i%4), 50_000) // shared by all workers
				if w%2 == 1 {
					data = content(uint64(100*w+i), 20_000)
				}
				// Put and reference in one step: a Prune may run in between.
				b, err := s.PutBlob(ctx, bytes.NewReader(data), digestOf(data), int64(len(data)), Label{Ref: fmt.Sprint("worker-", w)})
				if err != nil {
					t.Error(err)
					return
				}
				d := b.Digest
				r, err := s.Open(ctx, d)
				if err != nil {
					t.Error(err)
					return
				}
				got, err := io.ReadAll(r)
				r.Close()
				if err != nil || !bytes.Equal(got, data) {
					t.Errorf("worker %d round %d: read back %d bytes, %v", w, i, len(got), err)
				}
				if err := s.SetMeta("worker", fmt.Sprint(w), []byte{byte(i)}); err != nil {
					t.Error(err)
				}
				switch {
				case w == 0 && i%5 == 0:
					if _, err := s.Prune(ctx, PruneOptions{All: true, KeepReferenced: true}); err != nil {
						t.Error(err)
					}
				case w == 2 && i%5 == 0:
					if _, err := s.Verify(ctx); err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	wg.Wait()
	rep, err := s.Verify(ctx)
	if err != nil || len(rep.Problems) != 0 {
		t.Errorf("Verify = %+v, %v", rep, err)
	}
	refs, err := s.Refs(ctx)
	if err != nil || len(refs) != workers {
		t.Fatalf("Refs = %v, %v", refs, err)
	}
	for _, r := range refs {
		for _, d := range r.Digests {
			if !s.Has(d) {
				t.Errorf("referenced blob %s was pruned", d)
			}
		}
	}
}
