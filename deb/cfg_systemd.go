package deb

import (
	"path"
	"regexp"
	"strings"
)

// deb-systemd-helper enable, as init-system-helpers 1.6x implements it for
// a unit seen for the first time: the [Install] section's WantedBy= and
// RequiredBy= become symlinks in /etc/systemd/system/X.wants (.requires),
// Alias= becomes a symlink, Also= units are enabled too; each link is
// recorded in /var/lib/systemd/deb-systemd-helper-enabled so that the
// package's later upgrades keep the administrator's choice.

const dshState = "var/lib/systemd/deb-systemd-helper-enabled"

// findUnit is deb-systemd-helper's find_unit: the first of /etc, /lib and
// /usr/lib holding the unit, as an absolute path.
func (a *assembler) findUnit(unit string) string {
	for _, dir := range []string{"/etc/systemd/system/", "/lib/systemd/system/", "/usr/lib/systemd/system/"} {
		if a.isFile(dir + unit) {
			return dir + unit
		}
	}
	return ""
}

type unitLink struct{ dest, src string }

var (
	unitWanted   = regexp.MustCompile(`(?i)^\s*(WantedBy|RequiredBy)=(.+)$`)
	unitAlso     = regexp.MustCompile(`(?i)^\s*Also=(.+)$`)
	unitAlias    = regexp.MustCompile(`(?i)^\s*Alias=(.+)$`)
	unitInstance = regexp.MustCompile(`(?i)^\s*DefaultInstance=\s*(["']?)(.+?)(["']?)\s*$`)
	unitTemplate = regexp.MustCompile(`^(.*@)(\.\w+)$`)
)

func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}

// linkClosure is get_link_closure: every link enabling unit needs.
func (a *assembler) linkClosure(servicePath string, visited map[string]bool) []unitLink {
	data, err := a.t.ReadFile(servicePath)
	if err != nil {
		return nil
	}
	unitName := path.Base(servicePath)
	wanted := unitName
	var links []unitLink
	var wantsDirs []string
	for _, line := range strings.Split(string(data), "\n") {
		if m := unitWanted.FindStringSubmatch(line); m != nil {
			suffix := ".wants"
			if m[1] == "RequiredBy" {
				suffix = ".requires"
			} else if m[1] != "WantedBy" {
				suffix = "" // deb-systemd-helper compares case-sensitively
			}
			for _, v := range strings.Fields(m[2]) {
				wantsDirs = append(wantsDirs, "/etc/systemd/system/"+unquote(v)+suffix+"/")
			}
		}
		if m := unitAlso.FindStringSubmatch(line); m != nil {
			for _, v := range strings.Fields(m[1]) {
				v = unquote(v)
				if v != unitName && !visited[v] {
					visited[v] = true
					if p := a.findUnit(v); p != "" {
						links = append(links, a.linkClosure(p, visited)...)
					}
				}
			}
		}
		if m := unitAlias.FindStringSubmatch(line); m != nil {
			for _, v := range strings.Fields(m[1]) {
				if v = unquote(v); v != unitName {
					links = append(links, unitLink{dest: servicePath, src: "/etc/systemd/system/" + v})
				}
			}
		}
		if m := unitInstance.FindStringSubmatch(line); m != nil && m[1] == m[3] {
			wanted = unitTemplate.ReplaceAllString(unitName, "${1}"+m[2]+"${2}")
		}
	}
	for _, d := range wantsDirs {
		links = append(links, unitLink{dest: servicePath, src: d + wanted})
	}
	return links
}

// systemdEnable is "deb-systemd-helper enable unit" on a fresh system.
func (a *assembler) systemdEnable(unit string) error {
	servicePath := a.findUnit(unit)
	if servicePath == "" || strings.Contains(unit, "/") {
		return nil // the helper fails, and the block's "|| true" ignores it
	}
	state := dshState + "/" + path.Base(unit) + ".dsh-also"
	for _, l := range a.linkClosure(servicePath, map[string]bool{}) {
		if err := a.recordState(state, l.src); err != nil {
			return err
		}
		statefile := dshState + "/" + strings.TrimPrefix(l.src, "/etc/systemd/system/")
		if a.lexists(statefile) {
			continue
		}
		if !a.isLink(l.src) {
			if err := a.ensureDir(path.Dir(strings.TrimPrefix(l.src, "/")), 0o755); err != nil {
				return err
			}
			if err := a.t.Symlink(l.dest, l.src, a.attr(0o777)); err != nil {
				return err
			}
		}
		if err := a.ensureDir(path.Dir(statefile), 0o755); err != nil {
			return err
		}
		if err := a.touch(statefile, 0o644, 0, 0); err != nil {
			return err
		}
	}
	return nil
}

// recordState appends link to a .dsh-also file unless it is there.
func (a *assembler) recordState(state, link string) error {
	if err := a.ensureDir(path.Dir(state), 0o755); err != nil {
		return err
	}
	old, _ := a.t.ReadFile(state)
	for _, l := range strings.Split(string(old), "\n") {
		if l == link {
			return nil
		}
	}
	return a.t.WriteFile(state, append(old, link+"\n"...), a.attr(0o644))
}
