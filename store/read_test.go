package store

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"testing"

	"github.com/rootfsd/rootfsd/repo"
)

func TestOpenReadsAndVerifies(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, Options{})
	data := content(3, 300_000)
	d, _, err := s.Put(ctx, bytes.NewReader(data), "", -1)
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Open(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("ReadAll = %d bytes, %v", len(got), err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Open(ctx, digestOf([]byte("absent"))); !errors.Is(err, repo.ErrNotCached) {
		t.Errorf("Open of an absent blob: %v, want ErrNotCached", err)
	}
	if _, err := s.Open(ctx, "../../etc/passwd"); !errors.Is(err, ErrInvalid) {
		t.Errorf("Open of a path: %v, want ErrInvalid", err)
	}
}

func TestOpenCorrupt(t *testing.T) {
	tests := []struct {
		name  string
		spoil func(t *testing.T, s *Store, d string)
		// read consumes the reader; it returns the first error seen.
		read func(r io.ReadCloser) error
	}{
		{
			name:  "flipped byte, read to the end",
			spoil: func(t *testing.T, s *Store, d string) { damage(t, s, d, 70_000) },
			read:  func(r io.ReadCloser) error { _, err := io.Copy(io.Discard, r); return errors.Join(err, r.Close()) },
		},
		{
			name:  "flipped byte, read exactly the size, then Close",
			spoil: func(t *testing.T, s *Store, d string) { damage(t, s, d, 0) },
			read: func(r io.ReadCloser) error {
				_, err := io.ReadFull(r, make([]byte, 100_000))
				return errors.Join(err, r.Close())
			},
		},
		{
			name: "truncated",
			spoil: func(t *testing.T, s *Store, d string) {
				os.Chmod(s.blobPath(d), 0o644)
				if err := os.Truncate(s.blobPath(d), 99_999); err != nil {
					t.Fatal(err)
				}
			},
			read: func(r io.ReadCloser) error { _, err := io.ReadAll(r); return errors.Join(err, r.Close()) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s := newStore(t, Options{})
			data := content(4, 100_000)
			d, err := s.PutBlob(ctx, bytes.NewReader(data), "", -1, Label{Kind: KindPackage})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.SetPackage(ctx, PackageRecord{Key: "p", Digest: d.Digest}); err != nil {
				t.Fatal(err)
			}
			tt.spoil(t, s, d.Digest)
			r, err := s.Open(ctx, d.Digest)
			if err != nil {
				t.Fatal(err)
			}
			if err := tt.read(r); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("reading a damaged blob: %v, want ErrCorrupt", err)
			}
			if s.Has(d.Digest) {
				t.Error("damaged blob still in blobs/")
			}
			if q := dirNames(t, s, quarantineDir); len(q) != 1 {
				t.Errorf("quarantine holds %v, want the damaged blob", q)
			}
			if _, err := s.Package(ctx, "p"); !errors.Is(err, repo.ErrNotCached) {
				t.Errorf("package record of a quarantined blob: %v, want ErrNotCached", err)
			}
			if rep, err := s.Verify(ctx); err != nil || len(rep.Problems) != 0 {
				t.Errorf("Verify after quarantine = %+v, %v", rep, err)
			}
			// The next run fetches it again.
			if _, _, err := s.Put(ctx, bytes.NewReader(data), d.Digest, int64(len(data))); err != nil {
				t.Fatal(err)
			}
			checkBlob(t, s, data)
		})
	}
}

func TestEarlyCloseChecksNothing(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, Options{})
	data := content(5, 10_000)
	d, _, err := s.Put(ctx, bytes.NewReader(data), "", -1)
	if err != nil {
		t.Fatal(err)
	}
	damage(t, s, d, 9_000)
	r, err := s.Open(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(r, make([]byte, 100)); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("Close after a partial read: %v", err)
	}
	if !s.Has(d) {
		t.Error("a partial read quarantined the blob")
	}
}

// A damaged blob replaced by a good copy while being read must not be
// quarantined: the reader saw the old file, the store holds the new one.
func TestQuarantineSparesReplacement(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, Options{})
	data := content(6, 10_000)
	d, _, err := s.Put(ctx, bytes.NewReader(data), "", -1)
	if err != nil {
		t.Fatal(err)
	}
	damage(t, s, d, 1)
	r, err := s.Open(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Put(ctx, bytes.NewReader(data), d, -1); err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, r); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("reading the old file: %v, want ErrCorrupt", err)
	}
	r.Close()
	checkBlob(t, s, data)
}

func TestOpenCancelled(t *testing.T) {
	s := newStore(t, Options{})
	d, _, err := s.Put(context.Background(), bytes.NewReader(content(7, 5000)), "", -1)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r, err := s.Open(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cancel()
	if _, err := io.ReadAll(r); !errors.Is(err, context.Canceled) {
		t.Errorf("read after cancel: %v", err)
	}
}
