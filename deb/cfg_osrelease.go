package deb

import (
	"fmt"
	"strings"

	"github.com/rootfsd/rootfsd/repo"
)

// ensureOSRelease writes a minimal /usr/lib/os-release and the
// /etc/os-release link when no package shipped either (base-files is not
// in a custom set), so that image scanners still identify the release.
func (a *assembler) ensureOSRelease() error {
	for _, p := range []string{"etc/os-release", "usr/lib/os-release"} {
		if _, err := a.t.Lookup(p); err == nil {
			return nil
		}
	}
	d, err := repo.LookupDistro(a.plan.Distro)
	if err != nil {
		a.warn("", "no /etc/os-release in the tree and the release is unknown: image scanners will not identify it")
		return nil
	}
	name := map[string]string{"debian": "Debian GNU/Linux", "ubuntu": "Ubuntu"}[d.ID]
	if name == "" {
		name = d.ID
	}
	var b strings.Builder
	fmt.Fprintf(&b, "PRETTY_NAME=\"%s %s\"\nNAME=\"%s\"\nVERSION_ID=\"%s\"\nVERSION_CODENAME=%s\nID=%s\n", name, d.Version, name, d.Version, d.Codename, d.ID)
	if err := a.t.MkdirAll("usr/lib", a.attr(0o755)); err != nil {
		return err
	}
	if err := a.t.WriteFile("usr/lib/os-release", []byte(b.String()), a.attr(0o644)); err != nil {
		return err
	}
	if err := a.t.MkdirAll("etc", a.attr(0o755)); err != nil {
		return err
	}
	a.warn("", "base-files is not installed: wrote a minimal /usr/lib/os-release for "+d.Name())
	return a.t.Symlink("../usr/lib/os-release", "etc/os-release", a.attr(0o777))
}
