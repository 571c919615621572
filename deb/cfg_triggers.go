package deb

import (
	"strings"
)

// Triggers, once every package is configured, as dpkg runs them at the end
// of a run: libc-bin's ldconfig (activated by every shared library
// package), debianutils' update-shells (a file trigger on shells.d), and
// pam-auth-update for the profiles of /usr/share/pam-configs.

func (a *assembler) runTriggers() error {
	if a.has("libc-bin") {
		if err := a.ldconfig(); err != nil {
			return err
		}
	}
	if a.has("debianutils") && len(a.readDir(shellsDir)) > 0 && a.exists("usr/sbin/update-shells") {
		if err := a.updateShells(); err != nil {
			return err
		}
	}
	if a.has("libpam-runtime") && a.exists("usr/share/pam/common-auth") {
		if err := a.pamAuthUpdate(); err != nil {
			return err
		}
	}
	return nil
}

// postinstTzdata sets the time zone to UTC, tzdata's noninteractive
// default: /etc/localtime links to the zone file, /etc/timezone names it
// where the release's postinst writes that file.
func postinstTzdata(a *assembler, p *instPkg) error {
	const zone = "Etc/UTC"
	if !a.exists("usr/share/zoneinfo/" + zone) {
		a.warn(p.name, "tzdata: /usr/share/zoneinfo/Etc/UTC is missing; /etc/localtime not set")
		return nil
	}
	if !a.lexists("etc/localtime") {
		if err := a.t.Symlink("/usr/share/zoneinfo/"+zone, "etc/localtime", a.attr(0o777)); err != nil {
			return err
		}
	}
	if strings.Contains(string(p.script("postinst")), "/etc/timezone") && !a.exists("etc/timezone") {
		if err := a.t.WriteFile("etc/timezone", []byte(zone+"\n"), a.attr(0o644)); err != nil {
			return err
		}
	}
	a.conf.set("tzdata/Areas", "Etc")
	a.conf.set("tzdata/Zones/Etc", "UTC")
	a.conf.flag("tzdata/Areas", "seen")
	a.conf.flag("tzdata/Zones/Etc", "seen")
	return nil
}
