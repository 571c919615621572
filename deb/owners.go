package deb

import (
	"path"
	"strings"

	"github.com/rootfsd/rootfsd/repo/layering"
)

// LayerBase are the packages that get a layer of their own with
// --layering groups, bottom first: large, rarely changing libraries and
// tools most images carry. Patterns are path.Match patterns of names.
func LayerBase() []string {
	return []string{
		"libc6", "libgcc-s1", "libstdc++6", "libssl3", "libssl3t64",
		"perl-base", "python3.*-minimal", "libpython3.*-stdlib", "coreutils",
	}
}

// OwnerDatabase reads which package owns which path from the dpkg database
// of a tree: var/lib/dpkg/info/NAME[:ARCH].list, one path a line, as the
// package's data.tar spells it (the layering splitter resolves /lib and
// friends through the tree's merged-/usr links).
func OwnerDatabase() layering.Database {
	const dir = dpkgAdmin + "/info/"
	return layering.Database{
		Match: func(name string) bool {
			return strings.HasPrefix(name, dir) && strings.HasSuffix(name, ".list") && !strings.Contains(name[len(dir):], "/")
		},
		Parse: func(files map[string][]byte) (map[string][]string, error) {
			out := make(map[string][]string, len(files))
			for name, data := range files {
				pkg := strings.TrimSuffix(path.Base(name), ".list")
				var paths []string
				for _, l := range strings.Split(string(data), "\n") {
					if l != "" && l != "/." {
						paths = append(paths, l)
					}
				}
				out[pkg] = paths
			}
			return out, nil
		},
	}
}
