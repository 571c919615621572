package engine

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestTarTee: a built layer streamed through the tee lands whole in each
// tar output, renamed over it with the usual mode, and nothing else of
// the tee is left behind: not for an output whose size is wrong, not for
// one never committed, not for one whose directory does not exist.
func TestTarTee(t *testing.T) {
	dir := t.TempDir()
	a, b, c := filepath.Join(dir, "a.tar"), filepath.Join(dir, "b.tar"), filepath.Join(dir, "c.tar")
	missing := filepath.Join(dir, "no-such-dir", "d.tar")
	outs, err := parseOutputs(BuildRequest{Outputs: []string{"tar:" + a, "tar:" + b, "tar:" + c, "tar:" + missing, "oci:" + filepath.Join(dir, "oci")}})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(b, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	tee := newTarTee(outs)
	var stored bytes.Buffer
	w := tee.writer(&stored)
	layer := bytes.Repeat([]byte("layer bytes "), 100_000)
	for chunk := range slices.Chunk(layer, 1<<20) {
		if _, err := w.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(stored.Bytes(), layer) {
		t.Fatal("the store's stream is not the layer")
	}
	if !tee.commit(a, int64(len(layer))) {
		t.Fatal("commit of a whole layer failed")
	}
	if tee.commit(b, int64(len(layer))+1) {
		t.Error("commit of a layer of the wrong size succeeded")
	}
	if tee.commit(missing, int64(len(layer))) {
		t.Error("commit into a missing directory succeeded")
	}
	tee.discard()
	if got, err := os.ReadFile(a); err != nil || !bytes.Equal(got, layer) {
		t.Errorf("a.tar: %d bytes, %v", len(got), err)
	}
	if fi, err := os.Stat(a); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("a.tar mode %v, %v", fi.Mode(), err)
	}
	if got, _ := os.ReadFile(b); string(got) != "old" {
		t.Errorf("b.tar was replaced by a wrong-sized layer: %d bytes", len(got))
	}
	if _, err := os.Stat(c); !os.IsNotExist(err) {
		t.Errorf("c.tar, never committed, exists: %v", err)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
	if newTarTee(nil) != nil || newTarTee(outs[4:]) != nil {
		t.Error("a tee without tar outputs")
	}
}
