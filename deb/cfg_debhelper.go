package deb

import (
	"bufio"
	"fmt"
	"path"
	"regexp"
	"strings"
)

// Blocks debhelper writes into maintainer scripts, between
//
//	# Automatically added by dh_TOOL/VERSION
//	...
//	# End automatically added section
//
// are recognised and their fresh-install effect done here. What they do
// is fixed by debhelper's templates, so reading them is safe where reading
// arbitrary shell is not.

// dhBlock is one debhelper block of a script.
type dhBlock struct {
	tool string // "dh_installsystemd"
	body string
}

// dhNoop are the debhelper tools whose postinst blocks do nothing to a
// fresh image: they restart running services, byte-compile caches that
// are rebuilt on use, or update state of a running system.
var dhNoop = map[string]bool{
	"dh_installdeb": true, "dh_installmenu": true, "dh_installtmpfiles": true, "dh_python3": true,
	"dh_python2": true, "dh_makeshlibs": true, "dh_installudev": true, "dh_installinitramfs": true,
	"dh_apparmor": true, "dh_systemd_start": true, "dh_installdebconf": true, "dh_installxfonts": true,
	"dh_icons": true, "dh_installemacsen": true, "dh_lintian": true, "dh_installcatalogs": true,
}

// dhKnown are the tools runDebhelper acts on.
var dhKnown = map[string]bool{
	"dh_installsystemd": true, "dh_systemd_enable": true, "dh_installinit": true,
	"dh_installalternatives": true,
}

var dhStart = regexp.MustCompile(`^# Automatically added by (dh_[a-z0-9_]+)(/\S*)?\s*$`)

// debhelperBlocks splits a script into the blocks of recognised tools and
// the rest (unrecognised blocks stay in the rest).
func debhelperBlocks(script string) (blocks []dhBlock, rest string) {
	var out strings.Builder
	var cur *dhBlock
	var body strings.Builder
	var raw strings.Builder
	sc := bufio.NewScanner(strings.NewReader(script))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		if cur == nil {
			if m := dhStart.FindStringSubmatch(line); m != nil && (dhNoop[m[1]] || dhKnown[m[1]]) {
				cur = &dhBlock{tool: m[1]}
				body.Reset()
				raw.Reset()
				raw.WriteString(line + "\n")
				continue
			}
			out.WriteString(line + "\n")
			continue
		}
		raw.WriteString(line + "\n")
		if strings.HasPrefix(line, "# End automatically added section") {
			cur.body = body.String()
			blocks = append(blocks, *cur)
			cur = nil
			continue
		}
		body.WriteString(line + "\n")
	}
	if cur != nil { // unterminated: not debhelper's
		out.WriteString(raw.String())
	}
	return blocks, out.String()
}

// stripDebhelper is the rest of debhelperBlocks.
func stripDebhelper(script string) string {
	_, rest := debhelperBlocks(script)
	return rest
}

// runDebhelper does what a recognised block does on a fresh install.
func (a *assembler) runDebhelper(p *instPkg, b dhBlock) error {
	switch b.tool {
	case "dh_installsystemd", "dh_systemd_enable":
		return a.dhSystemd(b.body)
	case "dh_installinit":
		return a.dhInit(p, b.body)
	case "dh_installalternatives":
		return a.runAlternatives(p, b.body)
	}
	return nil // dhNoop
}

var systemdEnable = regexp.MustCompile(`deb-systemd-helper enable ([^>|&;]+)`)

// dhSystemd enables the units of a "was-enabled ... enable" block, as
// deb-systemd-helper does when the unit was never seen before. Blocks for
// units not enabled by default only update state, which is nothing here.
// deb-systemd-helper comes with init-system-helpers; without it the
// script's "|| true" makes the block a no-op, and so it is here.
func (a *assembler) dhSystemd(body string) error {
	if !a.exists("usr/bin/deb-systemd-helper") || !strings.Contains(body, "was-enabled") {
		return nil
	}
	for _, m := range systemdEnable.FindAllStringSubmatch(body, -1) {
		for _, unit := range strings.Fields(m[1]) {
			unit = strings.Trim(unit, `'"`)
			if err := a.systemdEnable(unit); err != nil {
				return err
			}
		}
	}
	return nil
}

var updateRCd = regexp.MustCompile(`update-rc\.d (\S+) (defaults|defaults-disabled)\b`)

// dhInit runs "update-rc.d NAME defaults" as update-rc.d does without
// insserv: S01/K01 links for the runlevels of the script's LSB header.
func (a *assembler) dhInit(p *instPkg, body string) error {
	m := updateRCd.FindAllStringSubmatch(body, -1)
	if len(m) == 0 {
		if strings.Contains(body, "update-rc.d") && !strings.Contains(body, "invoke-rc.d") {
			a.warn(p.name, p.name+": an update-rc.d call in its postinst is not understood and was not run")
		}
		return nil
	}
	if !a.exists("usr/sbin/update-rc.d") && !a.exists("sbin/update-rc.d") {
		return nil
	}
	if a.exists("usr/lib/insserv/insserv") || a.exists("sbin/insserv") {
		a.warn(p.name, p.name+": insserv is installed; init script links were made without its ordering")
	}
	for _, mm := range m {
		if err := a.updateRCd(strings.Trim(mm[1], `'"`), mm[2]); err != nil {
			return err
		}
	}
	return nil
}

func (a *assembler) updateRCd(name, action string) error {
	script := "etc/init.d/" + name
	i, err := a.t.Stat(script)
	if err != nil || i.Mode&0o111 == 0 || strings.Contains(name, "/") {
		return nil // the block runs update-rc.d only for an executable script
	}
	for _, lvl := range "S0123456" {
		for _, kind := range "SK" {
			if a.globExists(fmt.Sprintf("etc/rc%c.d", lvl), func(n string) bool {
				return len(n) == 3+len(name) && n[0] == byte(kind) && isDigit(n[1]) && isDigit(n[2]) && n[3:] == name
			}) {
				return nil // already has links: update-rc.d leaves them
			}
		}
	}
	data, err := a.t.ReadFile(script)
	if err != nil {
		return err
	}
	start, stop := lsbRunlevels(string(data))
	prefix := "S"
	if action == "defaults-disabled" {
		prefix = "K"
	}
	link := func(lvl, kind string) error {
		dir := "etc/rc" + lvl + ".d"
		if err := a.ensureDir(dir, 0o755); err != nil {
			return err
		}
		return a.replaceSymlink("../init.d/"+name, path.Join(dir, kind+"01"+name))
	}
	for _, lvl := range start {
		if err := link(lvl, prefix); err != nil {
			return err
		}
	}
	for _, lvl := range stop {
		if err := link(lvl, "K"); err != nil {
			return err
		}
	}
	return nil
}

// lsbRunlevels reads Default-Start and Default-Stop from an init script's
// LSB header.
func lsbRunlevels(script string) (start, stop []string) {
	in := false
	for _, line := range strings.Split(script, "\n") {
		switch {
		case strings.TrimRight(line, " \t") == "### BEGIN INIT INFO":
			in = true
		case strings.TrimRight(line, " \t") == "### END INIT INFO":
			return start, stop
		case in && strings.HasPrefix(line, "# Default-Start:"):
			start = validRunlevels(strings.Fields(strings.TrimPrefix(line, "# Default-Start:")))
		case in && strings.HasPrefix(line, "# Default-Stop:"):
			stop = validRunlevels(strings.Fields(strings.TrimPrefix(line, "# Default-Stop:")))
		}
	}
	return start, stop
}

func validRunlevels(l []string) []string {
	var out []string
	for _, s := range l {
		if len(s) == 1 && strings.ContainsAny(s, "S0123456") {
			out = append(out, s)
		}
	}
	return out
}
