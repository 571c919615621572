package store

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/rootfsd/rootfsd/repo"
)

// OpenForCopy skips the second hash only for the very file this process
// wrote or verified: another process's store, a blob changed in place (with
// the chmod that takes) and a blob renamed over all get the verifying
// reader, and a changed blob fails as with Open.
func TestOpenForCopy(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	data := content(7, 1<<20)
	b, err := s.PutBlob(ctx, bytes.NewReader(data), "", -1, Label{Kind: KindLayer})
	if err != nil {
		t.Fatal(err)
	}
	bare := func(s *Store) bool {
		t.Helper()
		rc, err := s.OpenForCopy(ctx, b.Digest)
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		_, isFile := rc.(*os.File)
		got, err := io.ReadAll(rc)
		if err == nil && !bytes.Equal(got, data) {
			err = errors.New("content differs")
		}
		if err != nil && isFile {
			t.Fatalf("bare file read: %v", err)
		}
		return isFile
	}
	if !bare(s) {
		t.Error("a blob this store just wrote is verified again")
	}
	other, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if bare(other) {
		t.Error("another store (process) trusts a blob it never verified")
	}
	if !bare(other) {
		t.Error("a blob the other store verified by reading it whole is verified again")
	}

	// Changed in place: chmod, write the same size, chmod back.
	p := s.blobPath(b.Digest)
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	bad := bytes.Clone(data)
	bad[100] ^= 1
	if err := os.WriteFile(p, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, 0o444); err != nil {
		t.Fatal(err)
	}
	rc, err := s.OpenForCopy(ctx, b.Digest)
	if err != nil {
		t.Fatal(err)
	}
	if _, isFile := rc.(*os.File); isFile {
		t.Error("a blob changed in place is trusted")
	}
	if _, err := io.ReadAll(rc); !errors.Is(err, ErrCorrupt) {
		t.Errorf("reading the changed blob: %v, want ErrCorrupt", err)
	}
	rc.Close()

	// Renamed over with good content: another file, verified again.
	b2, err := s.PutBlob(ctx, bytes.NewReader(data), "", -1, Label{Kind: KindLayer})
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, "other")
	if err := os.WriteFile(tmp, data, 0o444); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, s.blobPath(b2.Digest)); err != nil {
		t.Fatal(err)
	}
	if bare(s) {
		t.Error("a blob renamed over is trusted")
	}
}

// TestOpenFile: the file of a blob this store wrote is handed out as it
// is; another store hashes it first (and then trusts it too); a blob
// changed in place is refused as corrupt and quarantined, and a missing
// one is repo.ErrNotCached. Every file handed out reads from the start.
func TestOpenFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	data := content(9, 3<<20)
	b, err := s.PutBlob(ctx, bytes.NewReader(data), "", -1, Label{Kind: KindUnpacked})
	if err != nil {
		t.Fatal(err)
	}
	read := func(s *Store) error {
		t.Helper()
		f, err := s.OpenFile(ctx, b.Digest)
		if err != nil {
			return err
		}
		defer f.Close()
		got, err := io.ReadAll(f)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("file read: %d bytes, %v", len(got), err)
		}
		return nil
	}
	if err := read(s); err != nil {
		t.Fatalf("a blob this store wrote: %v", err)
	}
	other, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := read(other); err != nil {
		t.Fatalf("another store: %v", err)
	}
	if _, ok := other.fresh[b.Digest]; !ok {
		t.Error("the other store did not note the blob it verified")
	}
	// Changed in place (the chmod a write needs changes the file's state).
	p := s.blobPath(b.Digest)
	bad := bytes.Clone(data)
	bad[len(bad)/2] ^= 1
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := read(s); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("a blob changed in place: %v, want ErrCorrupt", err)
	}
	if s.Has(b.Digest) {
		t.Error("the damaged blob was not quarantined")
	}
	if _, err := s.OpenFile(ctx, b.Digest); !errors.Is(err, repo.ErrNotCached) {
		t.Errorf("a missing blob: %v, want repo.ErrNotCached", err)
	}
}
