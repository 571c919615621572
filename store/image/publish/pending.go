package publish

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"go.podman.io/storage"
)

// pendingDir is the directory below the graph root where commits record
// the image they are creating until it has its name.
const pendingDir = "rootfsd-pending"

// A pending entry records that this process is creating image id in a
// store. containers-storage creates an image record (with its manifest
// and config) and adds the name in a second step, so a commit killed in
// between leaves a whole but unnamed image that podman lists as <none>.
// The entry is a file named after the image, flocked for as long as the
// commit runs: a later commit that can lock an entry knows its owner died,
// and removes the image if it still has no name. An image that existed
// before the commit gets no entry, so no one else's image is ever removed.
type pending struct {
	f    *os.File
	path string
}

// beginPending records that image id is being created in st.
func beginPending(st storage.Store, id string) (*pending, error) {
	dir := filepath.Join(st.GraphRoot(), pendingDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("publish: record pending commit in %s: %w", dir, err)
	}
	path := filepath.Join(dir, id)
	deadline := time.Now().Add(time.Minute)
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("publish: record pending commit: %w", err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			// Another commit of the same image runs: wait for it.
			_ = f.Close()
			if !errors.Is(err, syscall.EWOULDBLOCK) || time.Now().After(deadline) {
				return nil, fmt.Errorf("publish: record pending commit %s: %w", path, err)
			}
			time.Sleep(50 * time.Millisecond)
			continue
		}
		// A cleaner may have removed the file between our open and our
		// lock: only a lock on the file the path names counts.
		if sameFile(f, path) {
			return &pending{f: f, path: path}, nil
		}
		_ = f.Close()
	}
}

// done removes the entry: the image has its name, or the commit failed
// and containers-storage removed what it had created.
func (p *pending) done() {
	_ = os.Remove(p.path)
	_ = p.f.Close()
}

// removeAbandoned removes the images of entries whose commit died before
// it named them, and the entries.
func removeAbandoned(st storage.Store) error {
	dir := filepath.Join(st.GraphRoot(), pendingDir)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("publish: read pending commits: %w", err)
	}
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			continue // removed meanwhile
		}
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil || !sameFile(f, path) {
			_ = f.Close() // a commit in progress
			continue
		}
		img, err := st.Image(e.Name())
		switch {
		case errors.Is(err, storage.ErrImageUnknown):
		case err != nil:
			_ = f.Close()
			return fmt.Errorf("publish: pending commit %s: %w", e.Name(), err)
		case len(img.Names) == 0:
			if _, err := st.DeleteImage(img.ID, true); err != nil {
				_ = f.Close()
				return fmt.Errorf("publish: remove image %s of an interrupted commit: %w", img.ID, err)
			}
		}
		_ = os.Remove(path)
		_ = f.Close()
	}
	return nil
}

// sameFile says whether the open file f is the file path names.
func sameFile(f *os.File, path string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Stat(path)
	return err == nil && os.SameFile(a, b)
}
