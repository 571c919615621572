package apk

import (
	"fmt"
	"strings"

	"github.com/rootfsd/rootfsd/repo/layering"
)

// LayerBase are the packages that get a layer of their own with
// --layering groups, bottom first: the C library, busybox and OpenSSL's
// libraries, which nearly every Alpine image carries.
func LayerBase() []string {
	return []string{"musl", "busybox", "libcrypto3", "libssl3"}
}

// installedDB is the database the owners are read from.
const installedDB = "lib/apk/db/installed"

// OwnerDatabase reads which package owns which path from a tree's
// lib/apk/db/installed: a record per package (P:NAME), its directories
// (F:DIR) each followed by its files (R:NAME).
func OwnerDatabase() layering.Database {
	return layering.Database{
		Match: func(name string) bool { return name == installedDB },
		Parse: func(files map[string][]byte) (map[string][]string, error) {
			out := map[string][]string{}
			data, ok := files[installedDB]
			if !ok {
				return out, nil
			}
			var pkg, dir string
			for i, l := range strings.Split(string(data), "\n") {
				key, val, _ := strings.Cut(l, ":")
				switch {
				case l == "":
					pkg, dir = "", ""
				case key == "P":
					pkg, dir = val, ""
				case key == "F":
					dir = val
				case key == "R":
					if pkg == "" {
						return nil, fmt.Errorf("apk: %s line %d: file %q outside a package record", installedDB, i+1, val)
					}
					p := val
					if dir != "" {
						p = dir + "/" + val
					}
					out[pkg] = append(out[pkg], p)
				}
			}
			return out, nil
		},
	}
}
