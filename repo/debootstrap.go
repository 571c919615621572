package repo

import (
	"os"
	"path"
	"path/filepath"
	"strings"
)

// discoverDebootstrap reads debootstrap's script for the release (or, when
// the installed debootstrap predates it, the newest script of the same
// distribution) and evaluates its default_mirror choice for arch.
func discoverDebootstrap(root string, d *Distro, arch string) (string, string) {
	dir := filepath.Join(root, "usr/share/debootstrap/scripts")
	candidates := []string{d.Codename}
	// Scripts of the same distribution, newest release first.
	cat := Catalog()
	for i := len(cat) - 1; i >= 0; i-- {
		if cat[i].ID == d.ID && cat[i].Codename != d.Codename {
			candidates = append(candidates, cat[i].Codename)
		}
	}
	for _, name := range candidates {
		file := filepath.Join(dir, name)
		data, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		if m := evalDefaultMirror(dir, string(data), DebianArch(arch), d.Codename, 0); m != "" {
			return strings.TrimRight(m, "/"), "debootstrap script " + name
		}
	}
	return "", ""
}

// evalDefaultMirror is a tiny interpreter for the part of debootstrap's
// scripts that picks the mirror: nested "case $ARCH|$SUITE in" blocks with
// glob patterns, "default_mirror URL", and sourcing of a sibling script
// (debian-common). Everything else is ignored.
func evalDefaultMirror(dir, script, arch, suite string, depth int) string {
	if depth > 3 {
		return ""
	}
	type frame struct {
		value   string // the value being matched
		matched bool   // some branch of this case already matched
		active  bool   // the current branch is taken
	}
	var stack []frame
	active := func() bool {
		for _, f := range stack {
			if !f.active {
				return false
			}
		}
		return true
	}
	mirror := ""
	for _, raw := range strings.Split(script, "\n") {
		line := strings.TrimSpace(raw)
		switch {
		case strings.HasPrefix(line, "case ") && strings.HasSuffix(line, " in"):
			v := strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(line, "case "), " in"))
			v = strings.Trim(v, "\"")
			val := ""
			switch v {
			case "$ARCH":
				val = arch
			case "$SUITE", "$CODENAME":
				val = suite
			}
			stack = append(stack, frame{value: val})
		case line == "esac":
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case line == ";;":
			if len(stack) > 0 {
				stack[len(stack)-1].active = false
			}
		case len(stack) > 0 && strings.HasSuffix(line, ")") && !strings.Contains(line, " "):
			f := &stack[len(stack)-1]
			f.active = false
			if !f.matched {
				for _, pat := range strings.Split(strings.TrimSuffix(line, ")"), "|") {
					if ok, _ := path.Match(pat, f.value); ok {
						f.active, f.matched = true, true
						break
					}
				}
			}
		case !active():
		case strings.HasPrefix(line, "default_mirror "):
			if mirror == "" {
				mirror = strings.TrimSpace(strings.TrimPrefix(line, "default_mirror "))
			}
		case strings.HasPrefix(line, ". ") && strings.Contains(line, "/debian-common"):
			if mirror == "" {
				if data, err := os.ReadFile(filepath.Join(dir, "debian-common")); err == nil {
					mirror = evalDefaultMirror(dir, string(data), arch, suite, depth+1)
				}
			}
		}
	}
	return mirror
}
