package deb

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"sort"
	"strings"
)

// dpkg's database, as dpkg 1.21/1.22 writes it, so that dpkg -l, dpkg -S,
// apt and image scanners inside the image see every package:
//
//	var/lib/dpkg/status           one stanza per package, sorted by name
//	var/lib/dpkg/info/P.list      the paths of the package's data.tar
//	var/lib/dpkg/info/P.*         every control member except "control"
//	var/lib/dpkg/arch             the native architecture
//	var/lib/dpkg/diversions       see diversions.go
//	var/lib/dpkg/triggers/*       trigger interests (see triggers below)
//
// P is "name:arch" for Multi-Arch: same packages. dpkg's lock files and
// the empty directories it needs are created too.

const dpkgAdmin = "var/lib/dpkg"

// statusFields is dpkg's fieldinfos table: the order dpkg writes the
// fields it knows. Fields it does not know follow in the order of the
// control file.
var statusFields = []string{
	"Package", "Essential", "Protected", "Status", "Priority", "Section", "Installed-Size",
	"Origin", "Maintainer", "Bugs", "Architecture", "Multi-Arch", "Source", "Version",
	"Config-Version", "Replaces", "Provides", "Depends", "Pre-Depends", "Recommends",
	"Suggests", "Breaks", "Conflicts", "Enhances", "Conffiles", "Filename", "Size",
	"MD5sum", "MSDOS-Filename", "Description", "Triggers-Pending", "Triggers-Awaited",
}

// relationFields are re-rendered canonically, as dpkg's parser and writer do.
var relationFields = map[string]bool{
	"Replaces": true, "Provides": true, "Depends": true, "Pre-Depends": true, "Recommends": true,
	"Suggests": true, "Breaks": true, "Conflicts": true, "Enhances": true,
}

// prepare creates what dpkg needs before the first package.
func (a *assembler) prepare() error {
	for _, d := range []string{dpkgAdmin + "/info", dpkgAdmin + "/updates", dpkgAdmin + "/triggers",
		dpkgAdmin + "/alternatives", "etc/dpkg/dpkg.cfg.d"} {
		if err := a.t.MkdirAll(d, a.attr(0o755)); err != nil {
			return err
		}
	}
	// The format of the info directory: "1" is one file per package and
	// member, the layout dpkg 1.16 introduced for multiarch.
	if err := a.t.WriteFile(dpkgAdmin+"/info/format", []byte("1\n"), a.attr(0o644)); err != nil {
		return err
	}
	a.alts = newAltDB()
	return nil
}

// statusStanza renders p's status entry.
func (a *assembler) statusStanza(p *instPkg) (string, error) {
	known := make(map[string]string)
	var extra []ctlField
	for _, f := range p.fields {
		name := canonicalField(f.name)
		if name == "" {
			extra = append(extra, f)
			continue
		}
		v := f.value
		switch {
		case relationFields[name]:
			groups, err := ParseRelations(v)
			if err != nil {
				return "", fmt.Errorf("%s: control field %s: %w", p.name, name, err)
			}
			parts := make([]string, len(groups))
			for i, g := range groups {
				parts[i] = g.String()
			}
			v = strings.Join(parts, ", ")
		case name == "Essential" || name == "Protected":
			if !strings.EqualFold(v, "yes") {
				continue
			}
			v = "yes"
		case name == "Multi-Arch":
			if v = strings.ToLower(v); v == "no" {
				continue
			}
		case name == "Version":
			v = canonVersion([]byte(v))
		case name == "Status", name == "Config-Version", name == "Conffiles",
			name == "Triggers-Pending", name == "Triggers-Awaited":
			continue // database state, never taken from a control file
		}
		known[name] = v
	}
	known["Status"] = "install ok installed"
	if cf := a.conffilesField(p); cf != "" {
		known["Conffiles"] = cf
	}
	var b strings.Builder
	for _, name := range statusFields {
		if v, ok := known[name]; ok {
			writeField(&b, name, v)
		}
	}
	for _, f := range extra {
		writeField(&b, f.name, f.value)
	}
	return b.String(), nil
}

func writeField(b *strings.Builder, name, value string) {
	b.WriteString(name)
	b.WriteByte(':')
	if value != "" && value[0] != '\n' {
		b.WriteByte(' ')
	}
	b.WriteString(value)
	b.WriteByte('\n')
}

// canonicalField returns the spelling dpkg writes for a field it knows,
// or "" for any other field.
func canonicalField(name string) string {
	for _, f := range statusFields {
		if strings.EqualFold(f, name) {
			return f
		}
	}
	return ""
}

// conffilesField is the value of Conffiles: "\n /etc/x <md5>" lines with
// the digest of the file the package installed.
func (a *assembler) conffilesField(p *instPkg) string {
	var b strings.Builder
	for _, cf := range p.conffiles {
		sum := "newconffile"
		if p.unpacked != nil {
			if s, ok := p.confSums[cf.path]; ok {
				sum = s
			}
		}
		b.WriteString("\n " + cf.path + " " + sum)
		if cf.flags != "" {
			b.WriteString(" " + cf.flags)
		}
	}
	return b.String()
}

// hashConffiles records the md5 of each conffile as unpacked, before any
// configure step edits it: dpkg keeps the digest of the shipped version.
func (a *assembler) hashConffiles(p *instPkg) {
	p.confSums = make(map[string]string)
	for _, cf := range p.conffiles {
		r, err := a.t.Open(cf.path)
		if err != nil {
			continue
		}
		h := md5.New()
		if _, err := io.Copy(h, r); err == nil {
			p.confSums[cf.path] = hex.EncodeToString(h.Sum(nil))
		}
	}
}

// writeStatus writes var/lib/dpkg/status, sorted by name as dpkg does.
func (a *assembler) writeStatus() error {
	pkgs := append([]*instPkg(nil), a.pkgs...)
	sort.Slice(pkgs, func(i, j int) bool {
		if pkgs[i].name != pkgs[j].name {
			return pkgs[i].name < pkgs[j].name
		}
		return pkgs[i].arch < pkgs[j].arch
	})
	var b strings.Builder
	for _, p := range pkgs {
		s, err := a.statusStanza(p)
		if err != nil {
			return err
		}
		b.WriteString(s)
		b.WriteByte('\n')
	}
	return a.t.WriteFile(dpkgAdmin+"/status", []byte(b.String()), a.attr(0o644))
}

// ensureDir creates a directory (and parents) owned by root with mode,
// keeping what exists.
func (a *assembler) ensureDir(p string, mode uint32) error {
	if _, err := a.t.Stat(p); err == nil {
		return nil
	}
	return a.t.MkdirAll(p, a.attr(mode))
}
