package publish

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"go.podman.io/storage"
)

// A commit killed after containers-storage wrote the image record but
// before its manifest (and name) leaves an unnamed image without a
// manifest. The next commit removes it, and keeps whole images, named or
// not.
func TestCommitRemovesPartialImages(t *testing.T) {
	opts := privateStore(t)
	ctx := context.Background()
	path, diffID := writeLayer(t, filepath.Join(t.TempDir(), "l.tar"), sampleFiles())
	first, err := Commit(ctx, newImage(t, path, diffID), "rootfsd-test:first", opts)
	if err != nil {
		t.Fatal(err)
	}
	st, err := openStore(opts)
	if err != nil {
		t.Fatal(err)
	}
	// What the kill leaves: CreateImage's record, nothing after it.
	partial, err := st.CreateImage("", nil, "", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	// An unnamed but whole image (a tag moved away from it) stays.
	if err := st.RemoveNames(first.ID, []string{first.Name}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Shutdown(false); err != nil {
		t.Fatal(err)
	}
	if _, err := Commit(ctx, newImage(t, path, diffID, "/bin/true"), "rootfsd-test:second", opts); err != nil {
		t.Fatal(err)
	}
	st, err = openStore(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Shutdown(false)
	if _, err := st.Image(partial.ID); !errors.Is(err, storage.ErrImageUnknown) {
		t.Errorf("partial image %s still there (%v)", partial.ID, err)
	}
	if _, err := st.Image(first.ID); err != nil {
		t.Errorf("whole unnamed image %s removed: %v", first.ID, err)
	}
}

// A commit killed after containers-storage created the image (manifest and
// all) but before it added the name leaves a whole, unnamed image and the
// commit's pending entry. The next commit removes that image; it leaves
// alone an image whose commit still runs (its entry locked) and unnamed
// images no commit of ours created.
func TestCommitRemovesImagesOfInterruptedCommits(t *testing.T) {
	opts := privateStore(t)
	ctx := context.Background()
	path, diffID := writeLayer(t, filepath.Join(t.TempDir(), "l.tar"), sampleFiles())
	var ids []string
	for i, cmd := range []string{"/bin/a", "/bin/b", "/bin/c"} {
		r, err := Commit(ctx, newImage(t, path, diffID, cmd), fmt.Sprintf("rootfsd-test:%d", i), opts)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	st, err := openStore(opts)
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		if err := st.RemoveNames(id, []string{fmt.Sprintf("localhost/rootfsd-test:%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	// ids[0]: its commit died (an entry nobody holds).
	dead, err := beginPending(st, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := dead.f.Close(); err != nil { // the kill: the lock goes, the file stays
		t.Fatal(err)
	}
	// ids[1]: its commit still runs (the entry is locked).
	running, err := beginPending(st, ids[1])
	if err != nil {
		t.Fatal(err)
	}
	defer running.done()
	// ids[2]: unnamed, but not ours to remove (no entry).
	if _, err := st.Shutdown(false); err != nil {
		t.Fatal(err)
	}
	if _, err := Commit(ctx, newImage(t, path, diffID, "/bin/d"), "rootfsd-test:next", opts); err != nil {
		t.Fatal(err)
	}
	st, err = openStore(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Shutdown(false)
	if _, err := st.Image(ids[0]); !errors.Is(err, storage.ErrImageUnknown) {
		t.Errorf("image %s of the interrupted commit still there (%v)", ids[0], err)
	}
	if _, err := os.Stat(dead.path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("pending entry of the interrupted commit still there (%v)", err)
	}
	for _, id := range ids[1:] {
		if _, err := st.Image(id); err != nil {
			t.Errorf("image %s removed: %v", id, err)
		}
	}
	if _, err := os.Stat(running.path); err != nil {
		t.Errorf("pending entry of the running commit: %v", err)
	}
}
