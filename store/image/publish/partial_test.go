package publish

import (
	"context"
	"errors"
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
