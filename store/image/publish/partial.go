package publish

import (
	"fmt"

	"go.podman.io/storage"
)

// removePartialImages deletes the image records a killed commit left
// behind. containers-storage writes an image record before its manifest
// and config (and adds the name last), so a commit killed in between
// leaves an unnamed image without a manifest: nothing refers to it, but
// podman would list it as <none>. A whole image always has a manifest, so
// an unnamed record without one is such a leftover; deleting it also drops
// the layers only it used.
func removePartialImages(st storage.Store) error {
	images, err := st.Images()
	if err != nil {
		return fmt.Errorf("publish: list images in %s: %w", st.GraphRoot(), err)
	}
	for _, img := range images {
		if len(img.Names) > 0 || hasManifest(img.BigDataNames) {
			continue
		}
		if _, err := st.DeleteImage(img.ID, true); err != nil {
			return fmt.Errorf("publish: remove partial image %s in %s: %w", img.ID, st.GraphRoot(), err)
		}
	}
	return nil
}

func hasManifest(keys []string) bool {
	for _, k := range keys {
		if k == storage.ImageDigestBigDataKey || len(k) > len("manifest-") && k[:len("manifest-")] == "manifest-" {
			return true
		}
	}
	return false
}
