package store

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/google/go-cmp/cmp"
)

// countingReader counts the bytes read from it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func TestPut(t *testing.T) {
	data := content(1, 100_000)
	good := digestOf(data)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name     string
		ctx      context.Context
		r        io.Reader
		want     string
		size     int64
		maxBlob  int64
		wantErr  error
		maxRead  int64 // bytes Put may consume, 0 for all
		wantBlob bool
	}{
		{name: "no expectations", r: bytes.NewReader(data), size: -1, wantBlob: true},
		{name: "digest and size", r: bytes.NewReader(data), want: good, size: int64(len(data)), wantBlob: true},
		{name: "prefixed upper-case digest", r: bytes.NewReader(data), want: "sha256:" + strings.ToUpper(good), size: -1, wantBlob: true},
		{name: "empty blob", r: bytes.NewReader(nil), want: digestOf(nil), size: 0, wantBlob: true},
		{name: "wrong digest", r: bytes.NewReader(data), want: digestOf([]byte("x")), size: -1, wantErr: ErrDigestMismatch},
		{name: "short", r: bytes.NewReader(data), size: int64(len(data)) + 1, wantErr: ErrSizeMismatch},
		{name: "long stops at size+1", r: bytes.NewReader(data), size: 1000, wantErr: ErrSizeMismatch, maxRead: 1001},
		{name: "over MaxBlobSize", r: bytes.NewReader(data), size: -1, maxBlob: 4096, wantErr: ErrTooLarge, maxRead: 4097},
		{name: "declared size over MaxBlobSize", r: bytes.NewReader(data), size: 5000, maxBlob: 4096, wantErr: ErrTooLarge, maxRead: -1},
		{name: "reader fails", r: io.MultiReader(bytes.NewReader(data[:500]), iotest.ErrReader(io.ErrUnexpectedEOF)), size: -1, wantErr: io.ErrUnexpectedEOF},
		{name: "cancelled", ctx: cancelled, r: bytes.NewReader(data), size: -1, wantErr: context.Canceled, maxRead: -1},
		{name: "malformed digest", r: bytes.NewReader(data), want: "abc", size: -1, wantErr: ErrInvalid, maxRead: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t, Options{MaxBlobSize: tt.maxBlob})
			ctx := tt.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			cr := &countingReader{r: tt.r}
			d, n, err := s.Put(ctx, cr, tt.want, tt.size)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Put error = %v, want %v", err, tt.wantErr)
			}
			switch {
			case tt.maxRead > 0 && cr.n > tt.maxRead:
				t.Errorf("Put read %d bytes, want at most %d", cr.n, tt.maxRead)
			case tt.maxRead < 0 && cr.n > 0:
				t.Errorf("Put read %d bytes, want none", cr.n)
			}
			if names := dirNames(t, s, tmpDir); len(names) != 0 {
				t.Errorf("tmp/ holds %v after Put", names)
			}
			blobs := dirNames(t, s, blobsDir)
			if !tt.wantBlob {
				if len(blobs) != 0 || d != "" {
					t.Errorf("failed Put left blobs %v, returned digest %q", blobs, d)
				}
				return
			}
			if !s.Has(d) || n != cr.n || len(blobs) != 1 {
				t.Fatalf("Put = %s, %d; Has = %v, blobs %v", d, n, s.Has(d), blobs)
			}
			fi, err := os.Stat(s.Path(d))
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o444 {
				t.Errorf("blob mode = %v, want read-only", fi.Mode())
			}
		})
	}
}

func TestPutLabels(t *testing.T) {
	ctx := context.Background()
	clock := newClock()
	s := newStore(t, Options{Now: clock.Now})
	data := []byte("hello\n")
	b1, err := s.PutBlob(ctx, bytes.NewReader(data), "", -1, Label{Kind: KindPackage, Name: "hello_1_all.deb"})
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(3600e9)
	// An empty label keeps the old one; the added time stays, last use moves.
	b2, err := s.PutBlob(ctx, bytes.NewReader(data), b1.Digest, int64(len(data)), Label{})
	if err != nil {
		t.Fatal(err)
	}
	want := Blob{Digest: digestOf(data), Size: 6, Kind: KindPackage, Name: "hello_1_all.deb", Added: clock.Now().Add(-3600e9), LastUsed: clock.Now()}
	if diff := cmp.Diff(want, b2); diff != "" {
		t.Errorf("second PutBlob (-want +got):\n%s", diff)
	}
	// The same bytes again were only a use: recorded at the next Flush,
	// like a read's.
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	list, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]Blob{want}, list); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}
}

func TestPutHealsDamagedBlob(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, Options{})
	data := content(2, 5000)
	d, _, err := s.Put(ctx, bytes.NewReader(data), "", -1)
	if err != nil {
		t.Fatal(err)
	}
	damage(t, s, d, 10)
	if _, _, err := s.Put(ctx, bytes.NewReader(data), d, 5000); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(s.Path(d))
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("blob after second Put differs (err %v)", err)
	}
}

// TestPutLarge: a blob of several writeback chunks (writeback_linux.go
// starts the disk writes of each while the next is written) is stored and
// read back whole.
func TestPutLarge(t *testing.T) {
	s := newStore(t, Options{})
	data := make([]byte, 3*writebackChunk+12345)
	for i := range data {
		data[i] = byte(i * 7 / 5)
	}
	b, err := s.PutBlob(context.Background(), bytes.NewReader(data), "", int64(len(data)), Label{Kind: KindLayer})
	if err != nil {
		t.Fatal(err)
	}
	rc, err := s.Open(context.Background(), b.Digest)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back %d of %d bytes, %v", len(got), len(data), err)
	}
}

// TestPutSameBlobAgain: a small blob put again with the bytes it has in
// the store leaves its file alone (no new copy, rename or sync) and the
// metadata file untouched; other bytes under the same name heal it, and a
// new label is recorded.
func TestPutSameBlobAgain(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, Options{})
	data := []byte("Origin: Debian\nSuite: stable\n")
	b, err := s.PutBlob(ctx, bytes.NewReader(data), "", -1, Label{Kind: KindIndex, Name: "InRelease"})
	if err != nil {
		t.Fatal(err)
	}
	before, _ := os.Stat(s.Path(b.Digest))
	db := filepath.Join(s.Dir(), "meta.db")
	dbBefore, _ := os.Stat(db)
	time.Sleep(20 * time.Millisecond)
	if _, err := s.PutBlob(ctx, bytes.NewReader(data), b.Digest, int64(len(data)), Label{Kind: KindIndex}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetMeta("ns", "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	dbBefore, _ = os.Stat(db)
	time.Sleep(20 * time.Millisecond)
	if err := s.SetMeta("ns", "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(s.Path(b.Digest))
	dbAfter, _ := os.Stat(db)
	if !os.SameFile(before, after) {
		t.Error("the same bytes again replaced the blob's file")
	}
	if !dbAfter.ModTime().Equal(dbBefore.ModTime()) {
		t.Error("setting a meta value to what it is wrote the metadata")
	}
	if v, err := s.GetMeta("ns", "k"); err != nil || string(v) != "v" {
		t.Errorf("meta = %q, %v", v, err)
	}
	// A new name is recorded (the normal put).
	b2, err := s.PutBlob(ctx, bytes.NewReader(data), b.Digest, int64(len(data)), Label{Name: "InRelease.new"})
	if err != nil || b2.Name != "InRelease.new" {
		t.Errorf("relabel: %+v, %v", b2, err)
	}
}
