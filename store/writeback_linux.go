package store

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// writeback wraps f so that, every writebackChunk bytes, the kernel is
// asked to start writing what came before to disk (sync_file_range,
// without waiting): the fsync that ends a Put then waits for the last
// chunk only, not for the whole of a layer of tens of MiB. For a file
// that is not fsynced (a build's output), it spreads the disk writes over
// the build instead of leaving them all to the kernel's flusher later.
type writeback struct {
	f       *os.File
	off     int64 // bytes written
	started int64 // bytes whose writeback was started
}

const writebackChunk = 8 << 20

// NewWriteback returns f as a writer that starts the disk writes of what
// it wrote every few MiB (see writeback).
func NewWriteback(f *os.File) io.Writer { return &writeback{f: f} }

func (w *writeback) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.off += int64(n)
	if w.off-w.started >= writebackChunk {
		_ = unix.SyncFileRange(int(w.f.Fd()), w.started, w.off-w.started, unix.SYNC_FILE_RANGE_WRITE)
		w.started = w.off
	}
	return n, err
}
