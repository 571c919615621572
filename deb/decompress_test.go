package deb

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/ulikunitz/xz"
)

// TestDecompressXZCommand: with an xz program given, a member of
// xzCommandMin compressed bytes or more is decoded by it, a smaller one
// in Go; both give the member's bytes, and the program's failure is the
// member's error.
func TestDecompressXZCommand(t *testing.T) {
	if !haveProgram("xz") {
		t.Skip("xz not installed")
	}
	dir := t.TempDir()
	marker := filepath.Join(dir, "ran")
	prog := filepath.Join(dir, "xz-wrapper")
	if err := os.WriteFile(prog, []byte("#!/bin/sh\necho >>"+marker+"\nexec xz \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	broken := filepath.Join(dir, "xz-broken")
	if err := os.WriteFile(broken, []byte("#!/bin/sh\necho 'xz: out of memory' >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	compress := func(plain []byte) []byte {
		var b bytes.Buffer
		w, err := xz.NewWriter(&b)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(plain)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	random := make([]byte, 2*xzCommandMin) // incompressible: the member stays large
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	lim := sizeLimit{max: 1 << 20}
	for _, c := range []struct {
		name    string
		plain   []byte
		program bool
	}{
		{"small member: Go's decoder", bytes.Repeat([]byte("control\n"), 4096), false},
		{"large member: the program", random, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			os.Remove(marker)
			member := compress(c.plain)
			if big := len(member) >= xzCommandMin; big != c.program {
				t.Fatalf("compressed member is %d bytes: the case is wrong", len(member))
			}
			dec, err := decompress(context.Background(), "data.tar.xz", ".xz", bytes.NewReader(member), lim, prog)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(dec)
			dec.Close()
			if err != nil || !bytes.Equal(got, c.plain) {
				t.Fatalf("decoded %d bytes (want %d), err %v", len(got), len(c.plain), err)
			}
			_, err = os.Stat(marker)
			if ran := err == nil; ran != c.program {
				t.Errorf("xz program ran: %v, want %v", ran, c.program)
			}
		})
	}
	t.Run("the program fails", func(t *testing.T) {
		dec, err := decompress(context.Background(), "data.tar.xz", ".xz", bytes.NewReader(compress(random)), lim, broken)
		if err == nil {
			_, err = io.ReadAll(dec)
			dec.Close()
		}
		if err == nil || !bytes.Contains([]byte(err.Error()), []byte("out of memory")) {
			t.Fatalf("err = %v, want the program's message", err)
		}
	})
}
