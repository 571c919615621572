package apk

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// PKGINFO is the .PKGINFO file of a package's control member, written by
// abuild: "key = value" lines, '#' comments; depend, provides, replaces and
// install_if may repeat.
type PKGINFO struct {
	Name             string // pkgname
	Version          string // pkgver
	Description      string // pkgdesc
	URL              string // url
	BuildDate        int64  // builddate
	Packager         string // packager
	Size             int64  // size: installed size
	Arch             string // arch
	Origin           string // origin
	Commit           string // commit
	Maintainer       string // maintainer
	License          string // license
	Depends          []Dep  // depend
	Provides         []Dep  // provides
	Replaces         []Dep  // replaces
	InstallIf        []Dep  // install_if
	ReplacesPriority int    // replaces_priority
	ProviderPriority int    // provider_priority
	// Triggers are the directory globs of the .trigger script (the last
	// "triggers" line wins, as in apk-tools).
	Triggers []string
	// DataHash is the hex SHA-256 of the raw compressed data member.
	DataHash string
	// Extra keeps other keys, in order.
	Extra [][2]string
}

// ParsePKGINFO parses a .PKGINFO. Unknown keys are kept in Extra; a line
// that is neither blank, a comment nor "key = value" is an error.
func ParsePKGINFO(data []byte, lim Limits) (*PKGINFO, error) {
	lim = lim.withDefaults()
	if int64(len(data)) > lim.ControlSize {
		return nil, fmt.Errorf("apk: .PKGINFO: %w of %d bytes", ErrTooLarge, lim.ControlSize)
	}
	info := &PKGINFO{}
	for n, line := range strings.Split(string(data), "\n") {
		if len(line) > lim.LineLength {
			return nil, fmt.Errorf("apk: .PKGINFO line %d: %w of %d bytes", n+1, ErrTooLarge, lim.LineLength)
		}
		if line == "" || line[0] == '#' {
			continue
		}
		key, val, ok := strings.Cut(line, " = ")
		if !ok || key == "" {
			return nil, fmt.Errorf("apk: .PKGINFO line %d: %w: %q is not \"key = value\"", n+1, ErrFormat, clip(line))
		}
		if err := info.set(key, val); err != nil {
			return nil, fmt.Errorf("apk: .PKGINFO line %d: %w", n+1, err)
		}
	}
	switch {
	case info.Name == "":
		return nil, fmt.Errorf("apk: .PKGINFO: %w: no pkgname", ErrFormat)
	case info.Version == "":
		return nil, fmt.Errorf("apk: .PKGINFO of %s: %w: no pkgver", info.Name, ErrFormat)
	}
	return info, nil
}

func (p *PKGINFO) set(key, val string) error {
	var err error
	appendDeps := func(dst *[]Dep) {
		var deps []Dep
		if deps, err = ParseDeps(val); err == nil {
			*dst = append(*dst, deps...)
		}
	}
	number := func(dst *int64) {
		if *dst, err = strconv.ParseInt(val, 10, 64); err != nil || *dst < 0 {
			err = fmt.Errorf("%w: %s %q is not a non-negative number", ErrFormat, key, clip(val))
		}
	}
	switch key {
	case "pkgname":
		p.Name = val
	case "pkgver":
		p.Version = val
	case "pkgdesc":
		p.Description = val
	case "url":
		p.URL = val
	case "builddate":
		number(&p.BuildDate)
	case "packager":
		p.Packager = val
	case "size":
		number(&p.Size)
	case "arch":
		p.Arch = val
	case "origin":
		p.Origin = val
	case "commit":
		p.Commit = val
	case "maintainer":
		p.Maintainer = val
	case "license":
		p.License = val
	case "depend":
		appendDeps(&p.Depends)
	case "provides":
		var deps []Dep
		if deps, err = parseProvides(val); err == nil {
			p.Provides = append(p.Provides, deps...)
		}
	case "replaces":
		appendDeps(&p.Replaces)
	case "install_if":
		appendDeps(&p.InstallIf)
	case "replaces_priority", "provider_priority":
		var n int64
		number(&n)
		if n > 1<<31-1 {
			err = fmt.Errorf("%w: %s %d out of range", ErrFormat, key, n)
		}
		if key == "replaces_priority" {
			p.ReplacesPriority = int(n)
		} else {
			p.ProviderPriority = int(n)
		}
	case "triggers":
		p.Triggers = strings.Fields(val)
	case "datahash":
		if b, herr := hex.DecodeString(val); herr != nil || len(b) != 32 {
			return fmt.Errorf("%w: datahash %q is not a hex SHA-256", ErrFormat, clip(val))
		}
		p.DataHash = strings.ToLower(val)
	default:
		p.Extra = append(p.Extra, [2]string{key, val})
	}
	return err
}
