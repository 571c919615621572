package store

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func FuzzParseDigest(f *testing.F) {
	for _, s := range []string{
		digestOf(nil), "sha256:" + digestOf(nil), strings.ToUpper(digestOf(nil)),
		"", "sha256:", "../../../../etc/passwd", strings.Repeat("0", 63) + "/",
		"sha512:" + digestOf(nil), strings.Repeat("é", 32),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDigest(s)
		if err != nil {
			if d != "" {
				t.Errorf("ParseDigest(%q) = %q with error", s, d)
			}
			return
		}
		if !isDigest(d) {
			t.Errorf("ParseDigest(%q) = %q, not canonical", s, d)
		}
		if again, err := ParseDigest(d); err != nil || again != d {
			t.Errorf("ParseDigest not idempotent on %q", d)
		}
		st := &Store{dir: "/cache"}
		if p := st.Path(s); filepath.Dir(p) != "/cache/blobs/sha256" {
			t.Errorf("Path(%q) = %q escapes blobs/sha256", s, p)
		}
	})
}

func FuzzLockName(f *testing.F) {
	for _, s := range []string{"download-libc6_2.39", "..", "a/b", ".x", "layer+abc", "a\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if checkFileName("lock name", name) != nil {
			return
		}
		p := filepath.Join("/cache/locks", name)
		if filepath.Dir(p) != "/cache/locks" || filepath.Base(p) != name {
			t.Errorf("lock name %q becomes %q", name, p)
		}
	})
}

// FuzzPut checks Put's contract on arbitrary content and expectations:
// success exactly when they hold, and nothing left behind otherwise.
func FuzzPut(f *testing.F) {
	f.Add([]byte("hello"), "", int64(-1))
	f.Add([]byte("hello"), digestOf([]byte("hello")), int64(5))
	f.Add([]byte("hello"), digestOf([]byte("hell")), int64(5))
	f.Add([]byte("hello"), "", int64(4))
	f.Add([]byte{}, digestOf(nil), int64(0))
	s := newStore(f, Options{MaxBlobSize: 1 << 16})
	f.Fuzz(func(t *testing.T, data []byte, want string, size int64) {
		d, n, err := s.Put(context.Background(), bytes.NewReader(data), want, size)
		wd, perr := ParseDigest(want)
		ok := (want == "" || perr == nil && wd == digestOf(data)) &&
			(size < 0 || size == int64(len(data))) && len(data) <= 1<<16
		if ok != (err == nil) {
			t.Fatalf("Put(%d bytes, %q, %d) = %v, want success %v", len(data), want, size, err, ok)
		}
		if err != nil {
			if d != "" || n != 0 {
				t.Errorf("failed Put returned %q, %d", d, n)
			}
			if !errors.Is(err, ErrDigestMismatch) && !errors.Is(err, ErrSizeMismatch) && !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrInvalid) {
				t.Errorf("Put error %v wraps no sentinel", err)
			}
		} else if d != digestOf(data) || n != int64(len(data)) || !s.Has(d) {
			t.Errorf("Put = %q, %d", d, n)
		}
		if names := dirNames(t, s, tmpDir); len(names) != 0 {
			t.Errorf("tmp/ holds %v", names)
		}
	})
}
