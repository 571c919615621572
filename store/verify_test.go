package store

import (
	"bytes"
	"context"
	"os"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"go.etcd.io/bbolt"
)

func TestVerify(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, Options{})
	put := func(seed uint64) string {
		d, _, err := s.Put(ctx, bytes.NewReader(content(seed, 3000)), "", -1)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	good, corrupt, missing, resized, refd := put(30), put(31), put(32), put(33), put(34)
	if err := s.SetPackage(ctx, PackageRecord{Key: "pkg-of-missing", Digest: missing}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddRef(ctx, "image", good, refd); err != nil {
		t.Fatal(err)
	}
	damage(t, s, corrupt, 2999)
	for _, d := range []string{missing, refd} {
		if err := os.Remove(s.blobPath(d)); err != nil {
			t.Fatal(err)
		}
	}
	// A blob renamed into place by a process killed before its commit.
	unrecorded := digestOf([]byte("unrecorded"))
	if err := os.WriteFile(s.blobPath(unrecorded), []byte("unrecorded"), 0o444); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.path(blobsDir, "notes.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		var rec blobRecord
		b := tx.Bucket(bktBlobs)
		getJSON(b, resized, &rec)
		rec.Size = 1
		return putJSON(b, resized, rec)
	})
	if err != nil {
		t.Fatal(err)
	}

	rep, err := s.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []Problem{
		{Kind: ProblemCorrupt, Digest: corrupt, Repaired: true},
		{Kind: ProblemStray, Key: "notes.txt", Repaired: true},
		{Kind: ProblemMissing, Digest: missing, Repaired: true},
		{Kind: ProblemMissing, Digest: refd, Repaired: true},
		{Kind: ProblemSize, Digest: resized, Repaired: true},
		{Kind: ProblemUnrecorded, Digest: unrecorded, Repaired: true},
		{Kind: ProblemDangling, Digest: missing, Key: "packages/pkg-of-missing", Repaired: true},
		{Kind: ProblemDanglingRef, Digest: refd, Key: "image"},
	}
	sortProblems := cmpopts.SortSlices(func(a, b Problem) bool {
		return a.Kind+ProblemKind(a.Digest+a.Key) < b.Kind+ProblemKind(b.Digest+b.Key)
	})
	if diff := cmp.Diff(want, rep.Problems, sortProblems, cmpopts.IgnoreFields(Problem{}, "Detail")); diff != "" {
		t.Errorf("Verify problems (-want +got):\n%s", diff)
	}
	if rep.OK() {
		t.Error("OK() with a dangling reference")
	}
	if rep.Blobs.Files != 4 {
		t.Errorf("Verify hashed %d blobs, want 4", rep.Blobs.Files)
	}

	// Only the dangling reference remains, until it is removed.
	rep, err = s.Verify(ctx)
	if err != nil || len(rep.Problems) != 1 || rep.Problems[0].Kind != ProblemDanglingRef {
		t.Errorf("second Verify = %+v, %v", rep, err)
	}
	if err := s.RemoveRef(ctx, "image"); err != nil {
		t.Fatal(err)
	}
	if rep, err = s.Verify(ctx); err != nil || !rep.OK() || len(rep.Problems) != 0 {
		t.Errorf("Verify after RemoveRef = %+v, %v", rep, err)
	}
	list, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var digests []string
	for _, b := range list {
		digests = append(digests, b.Digest)
	}
	wantList := slices.Sorted(slices.Values([]string{good, resized, unrecorded}))
	if diff := cmp.Diff(wantList, digests); diff != "" {
		t.Errorf("List after Verify (-want +got):\n%s", diff)
	}
}

func TestVerifyReadOnlyRepairsNothing(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, Options{})
	d, _, err := s.Put(ctx, bytes.NewReader(content(40, 100)), "", -1)
	if err != nil {
		t.Fatal(err)
	}
	damage(t, s, d, 5)
	ro, err := Open(s.Dir(), Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := ro.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK() || len(rep.Problems) != 1 || rep.Problems[0].Kind != ProblemCorrupt || !s.Has(d) {
		t.Errorf("read-only Verify = %+v; blob present %v", rep, s.Has(d))
	}
}
