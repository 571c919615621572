package apk

import (
	"archive/tar"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Installed is one package installed into a root: the index record it was
// chosen from and its verified file. Installer keeps File.Entries to what
// the package really owns (files lost to a package that replaces them are
// dropped, as apk-tools does).
type Installed struct {
	Package *Package
	File    *PackageFile
	// Tag is the repository tag the package was pinned to ("s:" field).
	Tag string
}

// dbDir is one F: block of the installed database.
type dbDir struct {
	name  string
	acl   string // the M: value, empty for 0:0:755 without xattrs
	files []string
}

// InstalledRecord renders a package's entry of lib/apk/db/installed as
// apk-tools 2 writes it (apk_db_write_fdb): the index header, then r: q: s:,
// then each directory (F:, M: unless root:root 0755) with its files (R:,
// a: unless root:root 0644, Z:), directories in the order the archive
// first names them, files in archive order. The entry ends with an empty
// line.
func InstalledRecord(ip *Installed) (string, error) {
	var b strings.Builder
	ip.Package.AppendIndexHeader(&b)
	if info := ip.File.Info; info != nil {
		if len(info.Replaces) > 0 {
			b.WriteString("r:" + FormatDeps(info.Replaces) + "\n")
		}
		if info.ReplacesPriority != 0 {
			b.WriteString("q:" + strconv.Itoa(info.ReplacesPriority) + "\n")
		}
	}
	if ip.Tag != "" {
		b.WriteString("s:" + ip.Tag + "\n")
	}
	dirs, err := dbDirs(ip.File.Entries)
	if err != nil {
		return "", fmt.Errorf("apk: installed record of %s: %w", ip.Package.ID(), err)
	}
	for _, d := range dirs {
		b.WriteString("F:" + d.name + "\n")
		if d.acl != "" {
			b.WriteString("M:" + d.acl + "\n")
		}
		for _, f := range d.files {
			b.WriteString(f)
		}
	}
	b.WriteByte('\n')
	return b.String(), nil
}

// dbDirs groups entries by directory the way apk-tools builds its
// owned_dirs lists while extracting.
func dbDirs(entries []Entry) ([]*dbDir, error) {
	var dirs []*dbDir
	byName := map[string]*dbDir{}
	get := func(name string) *dbDir {
		d := byName[name]
		if d == nil {
			d = &dbDir{name: name}
			byName[name] = d
			dirs = append(dirs, d)
		}
		return d
	}
	for _, e := range entries {
		h := e.Header
		if h.Typeflag == tar.TypeDir {
			d := get(h.Name)
			d.acl = acl(h, e.XattrChecksum, 0o755)
			continue
		}
		dir, file := path.Split(h.Name)
		dir = strings.TrimSuffix(dir, "/")
		if dir != "" && byName[dir] == nil {
			return nil, fmt.Errorf("%s: no directory entry for %s in the archive", h.Name, dir)
		}
		var f strings.Builder
		f.WriteString("R:" + file + "\n")
		if a := acl(h, e.XattrChecksum, 0o644); a != "" {
			f.WriteString("a:" + a + "\n")
		}
		if e.Checksum != "" {
			f.WriteString("Z:" + e.Checksum + "\n")
		}
		d := get(dir)
		d.files = append(d.files, f.String())
	}
	return dirs, nil
}

// acl renders "uid:gid:mode[:xattr-checksum]", or "" for the default.
func acl(h *tar.Header, xattr string, def int64) string {
	mode := h.Mode & 0o7777
	if h.Uid == 0 && h.Gid == 0 && mode == def && xattr == "" {
		return ""
	}
	s := strconv.Itoa(h.Uid) + ":" + strconv.Itoa(h.Gid) + ":" + strconv.FormatInt(mode, 8)
	if xattr != "" {
		s += ":" + xattr
	}
	return s
}

// InstalledDB renders lib/apk/db/installed: the records sorted by name.
func InstalledDB(pkgs []*Installed) ([]byte, error) {
	sorted := append([]*Installed(nil), pkgs...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Package.Name < sorted[j].Package.Name })
	var b strings.Builder
	for _, ip := range sorted {
		rec, err := InstalledRecord(ip)
		if err != nil {
			return nil, err
		}
		b.WriteString(rec)
	}
	return []byte(b.String()), nil
}

// TriggersDB renders lib/apk/db/triggers: for each package with triggers,
// in install order, its checksum and trigger globs.
func TriggersDB(pkgs []*Installed) []byte {
	var b strings.Builder
	for _, ip := range pkgs {
		if ip.File.Info == nil || len(ip.File.Info.Triggers) == 0 {
			continue
		}
		b.WriteString(ip.Package.Checksum)
		for _, t := range ip.File.Info.Triggers {
			b.WriteString(" " + t)
		}
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

// WorldFile renders etc/apk/world as apk-tools writes it: the entries in
// the order given, a later entry for the same name replacing an earlier
// one in place, one a line.
func WorldFile(world []Dep) []byte {
	var deps []Dep
	for _, d := range world {
		replaced := false
		for i := range deps {
			if deps[i].Name == d.Name {
				deps[i], replaced = d, true
			}
		}
		if !replaced {
			deps = append(deps, d)
		}
	}
	var b strings.Builder
	for _, d := range deps {
		b.WriteString(d.String() + "\n")
	}
	return []byte(b.String())
}
