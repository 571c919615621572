package engine

import (
	"io"
	"os"
	"path/filepath"

	"github.com/rootfsd/rootfsd/store"
)

// tarTee writes a layer that is being built to the build's tar outputs
// while it streams into the store, instead of copying the stored blob to
// each of them afterwards: on two cores the extra write runs alongside
// the store's hashing, and the output is one pass over the data. Each
// output is a temporary file next to its destination, renamed over it
// only when the layer is complete (nothing half-written is ever visible);
// an output that cannot be written this way falls back to the copy, which
// reports the error.
type tarTee struct {
	dests []string
	files map[string]*teeFile // by destination, once writer opened them
}

type teeFile struct {
	f   *os.File
	w   io.Writer // f, starting its disk writes as it goes
	err error     // the first write error; later writes are dropped
}

func (t *teeFile) Write(p []byte) (int, error) {
	if t.err == nil {
		_, t.err = t.w.Write(p)
	}
	return len(p), nil // never fails the layer: see tarTee
}

// newTarTee returns the tee of outs' tar outputs; nil when there are none.
func newTarTee(outs []output) *tarTee {
	t := &tarTee{files: map[string]*teeFile{}}
	for _, o := range outs {
		if o.kind == "tar" {
			t.dests = append(t.dests, o.dest)
		}
	}
	if len(t.dests) == 0 {
		return nil
	}
	return t
}

// writer opens the outputs' temporary files and returns w teed to them.
func (t *tarTee) writer(w io.Writer) io.Writer {
	if t == nil {
		return w
	}
	ws := []io.Writer{w}
	for _, dest := range t.dests {
		if t.files[dest] != nil {
			continue
		}
		f, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".tmp-*")
		if err != nil {
			continue // the copy afterwards reports it
		}
		t.files[dest] = &teeFile{f: f, w: store.NewWriteback(f)}
		ws = append(ws, t.files[dest])
	}
	return io.MultiWriter(ws...)
}

// commit renames dest's temporary file over dest when it holds the whole
// layer of size bytes, and reports whether it did.
func (t *tarTee) commit(dest string, size int64) bool {
	if t == nil || t.files[dest] == nil {
		return false
	}
	tf := t.files[dest]
	delete(t.files, dest)
	name := tf.f.Name()
	fi, err := tf.f.Stat()
	ok := tf.err == nil && err == nil && fi.Size() == size
	if err := tf.f.Close(); err != nil {
		ok = false
	}
	if ok && os.Chmod(name, 0o644) == nil && os.Rename(name, dest) == nil {
		return true
	}
	os.Remove(name)
	return false
}

// discard removes the temporary files not committed: the layer came from
// a cache or failed.
func (t *tarTee) discard() {
	if t == nil {
		return
	}
	for dest, tf := range t.files {
		tf.f.Close()
		os.Remove(tf.f.Name())
		delete(t.files, dest)
	}
}
