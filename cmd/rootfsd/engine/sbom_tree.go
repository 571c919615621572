package engine

import (
	"fmt"
	"path"
	"time"

	"github.com/rootfsd/rootfsd/repo"
	"github.com/rootfsd/rootfsd/repo/fstree"
	"github.com/rootfsd/rootfsd/repo/sbom"
)

// sbomDir is where the image keeps its own SBOMs, one file per format
// (sbom.spdx.json, sbom.cdx.json): the same documents the build writes
// beside file exports, so that an image in containers-storage or a
// registry still carries them (`rootfsd sbom IMAGE` reads the package
// database instead, which says the same).
const sbomDir = "var/lib/rootfsd"

// addSBOMs writes the lock's SBOMs into the tree, owned by root, 0644.
func addSBOMs(t *fstree.Tree, l *repo.Lock, epoch time.Time) error {
	dirAttr := fstree.Attr{Mode: 0o755, ModTime: epoch}
	if err := t.MkdirAll(sbomDir, dirAttr); err != nil {
		return fmt.Errorf("sbom in the image: %w", err)
	}
	for _, f := range sbom.Formats {
		data, err := sbom.Generate(f, &l.Plan, sbom.Options{Name: l.Distro, Created: epoch})
		if err != nil {
			return fmt.Errorf("sbom in the image: %w", err)
		}
		if err := t.WriteFile(path.Join(sbomDir, "sbom"+f.Ext()), data, fstree.Attr{Mode: 0o644, ModTime: epoch}); err != nil {
			return fmt.Errorf("sbom in the image: %w", err)
		}
	}
	return nil
}
