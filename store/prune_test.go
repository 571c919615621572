package store

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rootfsd/rootfsd/repo"
)

func TestRefs(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, Options{})
	a, _, _ := s.Put(ctx, bytes.NewReader([]byte("a")), "", -1)
	b, _, _ := s.Put(ctx, bytes.NewReader([]byte("b")), "", -1)
	if err := s.AddRef(ctx, "lock:x", b, a); err != nil {
		t.Fatal(err)
	}
	if err := s.AddRef(ctx, "lock:x", a); err != nil {
		t.Fatal(err)
	}
	if err := s.AddRef(ctx, "lock:x", digestOf([]byte("absent"))); !errors.Is(err, repo.ErrNotCached) {
		t.Errorf("AddRef of an absent blob: %v", err)
	}
	refs, err := s.Refs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{a, b}
	if b < a {
		want = []string{b, a}
	}
	if len(refs) != 1 || refs[0].Name != "lock:x" {
		t.Fatalf("Refs = %+v", refs)
	}
	if diff := cmp.Diff(want, refs[0].Digests); diff != "" {
		t.Errorf("reference digests (-want +got):\n%s", diff)
	}
	if err := s.RemoveRef(ctx, "lock:x"); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveRef(ctx, "lock:x"); !errors.Is(err, repo.ErrNotCached) {
		t.Errorf("RemoveRef of a missing reference: %v", err)
	}
}

// pruneFixture stores four 1000-byte blobs used 4, 3, 2 and 1 hours ago;
// the oldest two are referenced.
func pruneFixture(t *testing.T) (*Store, *fakeClock, []string) {
	ctx := context.Background()
	clock := newClock()
	s := newStore(t, Options{Now: clock.Now})
	var ds []string
	for i := range 4 {
		d, _, err := s.Put(ctx, bytes.NewReader(content(uint64(20+i), 1000)), "", -1)
		if err != nil {
			t.Fatal(err)
		}
		ds = append(ds, d)
		clock.Advance(time.Hour)
	}
	if err := s.AddRef(ctx, "image", ds[0], ds[1]); err != nil {
		t.Fatal(err)
	}
	if err := s.SetPackage(ctx, PackageRecord{Key: "pkg0", Digest: ds[0]}); err != nil {
		t.Fatal(err)
	}
	return s, clock, ds
}

func TestPrune(t *testing.T) {
	tests := []struct {
		name    string
		opt     PruneOptions
		removed []int // indexes into the fixture's digests
		refs    int   // digests left in the reference
	}{
		{name: "nothing asked", opt: PruneOptions{}, refs: 2},
		{name: "all", opt: PruneOptions{All: true}, removed: []int{0, 1, 2, 3}, refs: 0},
		{name: "all but referenced", opt: PruneOptions{All: true, KeepReferenced: true}, removed: []int{2, 3}, refs: 2},
		{name: "older than 150m", opt: PruneOptions{OlderThan: 150 * time.Minute}, removed: []int{0, 1}, refs: 0},
		{name: "older than 150m, keep referenced", opt: PruneOptions{OlderThan: 150 * time.Minute, KeepReferenced: true}, refs: 2},
		{name: "older than 90m, keep referenced", opt: PruneOptions{OlderThan: 90 * time.Minute, KeepReferenced: true}, removed: []int{2}, refs: 2},
		{name: "max bytes, least recently used first", opt: PruneOptions{MaxBytes: 2500}, removed: []int{0, 1}, refs: 0},
		{name: "max bytes, keep referenced", opt: PruneOptions{MaxBytes: 2500, KeepReferenced: true}, removed: []int{2, 3}, refs: 2},
		{name: "dry run", opt: PruneOptions{All: true, DryRun: true}, removed: []int{0, 1, 2, 3}, refs: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s, _, ds := pruneFixture(t)
			rep, err := s.Prune(ctx, tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			var got, want []string
			for _, b := range rep.Removed {
				got = append(got, b.Digest)
			}
			gone := map[string]bool{}
			for _, i := range tt.removed {
				gone[ds[i]] = true
			}
			for _, d := range ds {
				if gone[d] {
					want = append(want, d)
				}
			}
			if diff := cmp.Diff(slices.Sorted(slices.Values(want)), got); diff != "" {
				t.Errorf("removed (-want +got):\n%s", diff)
			}
			if rep.Freed.Bytes != int64(1000*len(tt.removed)) || rep.Kept.Bytes != int64(1000*(4-len(tt.removed))) {
				t.Errorf("freed %+v, kept %+v", rep.Freed, rep.Kept)
			}
			for _, d := range ds {
				if present := s.Has(d); present == (gone[d] && !tt.opt.DryRun) {
					t.Errorf("blob %s present = %v after prune", d[:8], present)
				}
			}
			refs, err := s.Refs(ctx)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, r := range refs {
				n += len(r.Digests)
			}
			if n != tt.refs {
				t.Errorf("references hold %d digests, want %d", n, tt.refs)
			}
			if rep, err := s.Verify(ctx); err != nil || len(rep.Problems) != 0 {
				t.Errorf("Verify after Prune = %+v, %v", rep, err)
			}
		})
	}
}

// Reading a blob counts as a use for Prune, even without Touch.
func TestPruneSeesReads(t *testing.T) {
	ctx := context.Background()
	s, clock, ds := pruneFixture(t)
	clock.Advance(time.Hour)
	r, err := s.Open(ctx, ds[2])
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	if err := s.Touch(ctx, ds[3]); err != nil {
		t.Fatal(err)
	}
	rep, err := s.Prune(ctx, PruneOptions{OlderThan: 30 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Removed) != 2 || s.Has(ds[0]) || s.Has(ds[1]) || !s.Has(ds[2]) || !s.Has(ds[3]) {
		t.Errorf("Prune removed %+v", rep.Removed)
	}
}

func TestPruneRejectsNegative(t *testing.T) {
	s := newStore(t, Options{})
	if _, err := s.Prune(context.Background(), PruneOptions{MaxBytes: -1}); !errors.Is(err, ErrInvalid) {
		t.Errorf("Prune with MaxBytes -1: %v", err)
	}
}
