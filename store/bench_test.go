package store

import (
	"bytes"
	"context"
	"io"
	"strconv"
	"testing"
)

const benchBlob = 64 << 20

// BenchmarkPut64MB measures Put of a 64 MB blob with expected digest and
// size: copy, hash, fsync, rename and the metadata transaction.
func BenchmarkPut64MB(b *testing.B) {
	ctx := context.Background()
	s := newStore(b, Options{})
	data := content(60, benchBlob)
	d := digestOf(data)
	b.SetBytes(benchBlob)
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := s.Put(ctx, bytes.NewReader(data), d, benchBlob); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpen64MB measures reading a 64 MB blob through the verifying
// reader.
func BenchmarkOpen64MB(b *testing.B) {
	ctx := context.Background()
	s := newStore(b, Options{})
	data := content(61, benchBlob)
	d, _, err := s.Put(ctx, bytes.NewReader(data), "", -1)
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, copyBufSize)
	b.SetBytes(benchBlob)
	b.ResetTimer()
	for b.Loop() {
		r, err := s.Open(ctx, d)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.CopyBuffer(io.Discard, r, buf); err != nil {
			b.Fatal(err)
		}
		r.Close()
	}
}

// BenchmarkPutSmall measures the fixed cost of a Put (two fsyncs, a
// rename, a directory sync and a bbolt transaction opened for it).
func BenchmarkPutSmall(b *testing.B) {
	ctx := context.Background()
	s := newStore(b, Options{})
	i := 0
	for b.Loop() {
		i++
		if _, _, err := s.Put(ctx, bytes.NewReader([]byte(strconv.Itoa(i))), "", -1); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGetMeta measures a read transaction: shared flock, bbolt open
// read-only, lookup, close.
func BenchmarkGetMeta(b *testing.B) {
	s := newStore(b, Options{})
	if err := s.SetMeta("etag", "k", []byte("v")); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := s.GetMeta("etag", "k"); err != nil {
			b.Fatal(err)
		}
	}
}
