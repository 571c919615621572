package check

import (
	"bufio"
	"bytes"
	"context"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/rootfsd/rootfsd/repo"
)

// Limits on the package database files read from a tree.
const (
	maxStatusSize = 64 << 20
	maxListSize   = 16 << 20
	maxLists      = 20000
)

// packageDB is what the tree's own package database tells: which package
// shipped each file, what is installed, and who depends on tzdata.
type packageDB struct {
	owners       map[string]string // tree path (real and as listed) -> package
	installed    map[string]bool
	tzDependents []string
	packages     []repo.Planned
}

// Installed lists the packages the tree's own database (dpkg's status or
// apk's installed file) records as installed, sorted by name: what `rootfsd
// diff` compares when given images instead of locks.
func Installed(ctx context.Context, fsys fs.ReadLinkFS) []repo.Planned {
	db := readPackageDB(ctx, fsys)
	sort.Slice(db.packages, func(i, j int) bool {
		if db.packages[i].Name != db.packages[j].Name {
			return db.packages[i].Name < db.packages[j].Name
		}
		return db.packages[i].Arch < db.packages[j].Arch
	})
	return db.packages
}

// readPackageDB reads dpkg's status and info/*.list files, or apk's
// installed database. A tree without either gives an empty database.
func readPackageDB(ctx context.Context, fsys fs.ReadLinkFS) *packageDB {
	db := &packageDB{owners: map[string]string{}, installed: map[string]bool{}}
	if data := readSmall(fsys, "/lib/apk/db/installed", maxStatusSize); data != nil {
		db.readAPK(fsys, data)
		return db
	}
	if data := readSmall(fsys, "/var/lib/dpkg/status", maxStatusSize); data != nil {
		db.readDpkgStatus(data)
	}
	real, fi, ok := stat(fsys, "/var/lib/dpkg/info")
	if !ok || !fi.IsDir() {
		return db
	}
	ents, err := fs.ReadDir(fsys, real)
	if err != nil {
		return db
	}
	n := 0
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".list")
		if !ok || !e.Type().IsRegular() || ctx.Err() != nil {
			continue
		}
		if n++; n > maxLists {
			break
		}
		pkg, _, _ := strings.Cut(name, ":")
		data := readSmall(fsys, path.Join(real, e.Name()), maxListSize)
		for _, line := range strings.Split(string(data), "\n") {
			db.own(fsys, line, pkg)
		}
	}
	return db
}

// own records that pkg shipped p, under p as listed and under the path
// it really is (merged-/usr: /bin/sh is usr/bin/sh).
func (db *packageDB) own(fsys fs.ReadLinkFS, p, pkg string) {
	p = strings.Trim(strings.TrimSpace(p), "/")
	if p == "" || p == "." {
		return
	}
	db.owners[p] = pkg
	dir, base := path.Split(p)
	if dir == "" {
		return
	}
	if real, fi, err := resolve(fsys, dir, true); err == nil && fi.IsDir() {
		db.owners[path.Join(real, base)] = pkg
	}
}

// readDpkgStatus notes installed packages and those depending on tzdata.
func (db *packageDB) readDpkgStatus(data []byte) {
	for _, stanza := range bytes.Split(data, []byte("\n\n")) {
		fields := map[string]string{}
		last := ""
		for _, line := range strings.Split(string(stanza), "\n") {
			switch {
			case line == "":
			case line[0] == ' ' || line[0] == '\t':
				if last != "" {
					fields[last] += " " + strings.TrimSpace(line)
				}
			default:
				k, v, _ := strings.Cut(line, ":")
				last = k
				fields[k] = strings.TrimSpace(v)
			}
		}
		name := fields["Package"]
		if name == "" || !strings.HasSuffix(fields["Status"], " installed") {
			continue
		}
		db.installed[name] = true
		db.packages = append(db.packages, repo.Planned{Name: name, Version: fields["Version"], Arch: fields["Architecture"]})
		for _, rel := range strings.Split(fields["Pre-Depends"]+","+fields["Depends"], ",") {
			for _, alt := range strings.Split(rel, "|") {
				if f := strings.Fields(alt); len(f) > 0 && strings.Split(f[0], ":")[0] == "tzdata" {
					db.tzDependents = append(db.tzDependents, name)
				}
			}
		}
	}
	db.tzDependents = uniq(db.tzDependents)
}

// readAPK reads lib/apk/db/installed: "P:" starts a package, "F:" a
// directory, "R:" a file in it, "D:" the dependencies.
func (db *packageDB) readAPK(fsys fs.ReadLinkFS, data []byte) {
	pkg, dir := "", ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		switch k {
		case "P":
			pkg, dir = v, ""
			db.installed[pkg] = true
			db.packages = append(db.packages, repo.Planned{Name: pkg})
		case "V", "A":
			if n := len(db.packages); n > 0 && pkg != "" {
				if k == "V" {
					db.packages[n-1].Version = v
				} else {
					db.packages[n-1].Arch = v
				}
			}
		case "F":
			dir = v
		case "R":
			db.own(fsys, path.Join(dir, v), pkg)
		case "D":
			for _, d := range strings.Fields(v) {
				if name := strings.FieldsFunc(d, func(r rune) bool { return strings.ContainsRune("<>=~", r) }); len(name) > 0 && name[0] == "tzdata" {
					db.tzDependents = append(db.tzDependents, pkg)
				}
			}
		}
	}
	db.tzDependents = uniq(db.tzDependents)
}
