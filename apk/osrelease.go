package apk

import (
	"fmt"
	"strings"
	"time"

	"github.com/rootfsd/rootfsd/repo"
	"github.com/rootfsd/rootfsd/repo/fstree"
)

// ensureOSRelease writes /etc/os-release, as Alpine's minirootfs build
// does, when no package shipped it or /etc/alpine-release (alpine-release
// is not in the set), so that image scanners still identify the release.
// VERSION_ID is the branch (3.19), not the point release alpine-release
// would give; edge has none.
func ensureOSRelease(t *fstree.Tree, distro string, mtime time.Time) error {
	for _, p := range []string{"etc/os-release", "usr/lib/os-release", "etc/alpine-release"} {
		if _, err := t.Lookup(p); err == nil {
			return nil
		}
	}
	d, err := repo.LookupDistro(distro)
	if err != nil || d.Family != repo.FamilyAPK {
		return nil // a plan of another catalog: nothing known to write
	}
	var b strings.Builder
	fmt.Fprintf(&b, "NAME=\"Alpine Linux\"\nID=%s\n", d.ID)
	if d.Version != "edge" {
		fmt.Fprintf(&b, "VERSION_ID=%s\n", d.Version)
	}
	fmt.Fprintf(&b, "PRETTY_NAME=\"Alpine Linux %s\"\n", d.Codename)
	if err := t.MkdirAll("etc", fstree.Attr{Mode: 0o755, ModTime: mtime}); err != nil {
		return fmt.Errorf("apk: os-release: %w", err)
	}
	if err := t.WriteFile("etc/os-release", []byte(b.String()), fstree.Attr{Mode: 0o644, ModTime: mtime}); err != nil {
		return fmt.Errorf("apk: os-release: %w", err)
	}
	return nil
}
