package apk

import (
	"fmt"
	"strings"
)

// checkRecordName refuses an index record whose P: or V: could not be a
// file name: the package file is fetched as <arch>/<P>-<V>.apk, so a "/"
// or a ".." there would point the download (and the plan, and a lock made
// from it) elsewhere on the mirror. Real names and versions have neither.
func checkRecordName(p *Package) error {
	for _, f := range [...]struct{ field, v string }{{"P:", p.Name}, {"V:", p.Version}} {
		if strings.Contains(f.v, "/") || f.v == "." || f.v == ".." || strings.HasPrefix(f.v, ".") {
			return fmt.Errorf("%w: %s %q cannot be part of a file name", ErrFormat, f.field, clip(f.v))
		}
	}
	return nil
}
