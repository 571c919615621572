package apk

import (
	"strconv"
	"strings"
)

// Package is one record of an APKINDEX or of the installed database. Field
// letters are apk-tools'; letters rootfsd does not interpret are kept raw
// in Extra, in their order.
type Package struct {
	Checksum         string // C: "Q1" + base64 SHA-1 of the control member
	Name             string // P:
	Version          string // V:
	Arch             string // A:
	Size             int64  // S: size of the .apk file
	InstalledSize    int64  // I:
	Description      string // T:
	URL              string // U:
	License          string // L:
	Origin           string // o: the source (aports) package
	Maintainer       string // m:
	BuildTime        int64  // t: Unix seconds
	Commit           string // c: aports commit
	ProviderPriority int    // k:
	Depends          []Dep  // D:
	Provides         []Dep  // p:
	InstallIf        []Dep  // i:
	Replaces         []Dep  // r: (installed database only)
	ReplacesPriority int    // q: (installed database only)
	Extra            []Field
}

// Field is a record line rootfsd keeps without interpreting it.
type Field struct {
	Key   byte
	Value string
}

// ID is "name-version", apk's usual spelling of a package.
func (p *Package) ID() string { return p.Name + "-" + p.Version }

// Filename is the package's file name inside its repository's arch
// directory.
func (p *Package) Filename() string { return p.Name + "-" + p.Version + ".apk" }

// AppendIndexHeader renders the record lines apk-tools writes for a package
// (apk_pkg_write_index_header): C P V A S I T U L o m t c k D p i. The
// same header starts each entry of lib/apk/db/installed.
func (p *Package) AppendIndexHeader(b *strings.Builder) {
	line := func(key, val string) {
		b.WriteString(key)
		b.WriteByte(':')
		b.WriteString(val)
		b.WriteByte('\n')
	}
	line("C", p.Checksum)
	line("P", p.Name)
	line("V", p.Version)
	if p.Arch != "" {
		line("A", p.Arch)
	}
	line("S", strconv.FormatInt(p.Size, 10))
	line("I", strconv.FormatInt(p.InstalledSize, 10))
	line("T", p.Description)
	line("U", p.URL)
	line("L", p.License)
	if p.Origin != "" {
		line("o", p.Origin)
	}
	if p.Maintainer != "" {
		line("m", p.Maintainer)
	}
	if p.BuildTime != 0 {
		line("t", strconv.FormatInt(p.BuildTime, 10))
	}
	if p.Commit != "" {
		line("c", p.Commit)
	}
	if p.ProviderPriority != 0 {
		line("k", strconv.Itoa(p.ProviderPriority))
	}
	if len(p.Depends) > 0 {
		line("D", FormatDeps(p.Depends))
	}
	if len(p.Provides) > 0 {
		line("p", FormatDeps(p.Provides))
	}
	if len(p.InstallIf) > 0 {
		line("i", FormatDeps(p.InstallIf))
	}
}
