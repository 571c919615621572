package deb

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// pam-auth-update, as libpam-runtime's postinst runs it on a fresh
// install ("--package --force"): the profiles of /usr/share/pam-configs
// enabled by default are stacked, by priority, into
// /etc/pam.d/common-{auth,account,password,session,session-noninteractive}
// from the templates in /usr/share/pam, with the jumps ("success=end")
// counted out, and the chosen stack is saved in /var/lib/pam. Packages
// that add profiles later run "pam-auth-update --package" in their own
// postinst; on a fresh install the result is the same as one run over all
// profiles, so it runs once, after every package is configured.

var pamTypes = []string{"auth", "account", "password", "session", "session-noninteractive"}

type pamProfile map[string]string

// postinstPamRuntime is a no-op at configure time: see pamAuthUpdate.
func postinstPamRuntime(a *assembler, p *instPkg) error { return nil }

var pamField = regexp.MustCompile(`^(\S+):\s+(.*?)\s*$`)

// parsePamProfile is pam-auth-update's parse_pam_profile.
func parsePamProfile(data string) (pamProfile, map[string]bool, bool) {
	prof := pamProfile{}
	conflicts := map[string]bool{}
	disabled := false
	field := ""
	lines := strings.SplitAfter(data, "\n")
	for _, line := range lines {
		if line == "" {
			continue
		}
		if m := pamField.FindStringSubmatch(strings.TrimSuffix(line, "\n") + "\n"); m != nil && !strings.HasPrefix(line, " ") && !strings.HasPrefix(line, "\t") {
			field = strings.TrimSuffix(m[1], "-Final")
			if field == "Conflicts" {
				for _, c := range strings.Split(m[2], ", ") {
					conflicts[c] = true
				}
			} else {
				prof[field] = m[2]
			}
			continue
		}
		l := strings.TrimSpace(line)
		if l != "" {
			prof[field] += "\n" + l
		}
		if strings.Contains(prof[field], "pam_tally") {
			disabled = true
		}
		prof[field] = strings.TrimLeft(prof[field], "\n \t\r\f\v")
	}
	if prof["Session-Interactive-Only"] != "yes" {
		prof["Session-noninteractive-Type"] = prof["Session-Type"]
		prof["Session-noninteractive"] = prof["Session"]
		prof["Session-noninteractive-Initial"] = prof["Session-Initial"]
	}
	return prof, conflicts, disabled
}

// pamAuthUpdate writes the common-* files and /var/lib/pam.
func (a *assembler) pamAuthUpdate() error {
	profiles := map[string]pamProfile{}
	conflicts := map[string]map[string]bool{}
	for _, name := range a.readDir("usr/share/pam-configs") {
		if strings.HasSuffix(name, "~") || strings.HasPrefix(name, "#") && strings.HasSuffix(name, "#") && len(name) > 2 {
			continue
		}
		data, err := a.t.ReadFile("usr/share/pam-configs/" + name)
		if err != nil {
			continue
		}
		prof, conf, disabled := parsePamProfile(string(data))
		if !disabled {
			profiles[name], conflicts[name] = prof, conf
		}
	}
	prio := func(n string) int { v, _ := strconv.Atoi(strings.TrimSpace(profiles[n]["Priority"])); return v }
	byPriority := func(l []string) {
		sort.SliceStable(l, func(i, j int) bool {
			if pi, pj := prio(l[i]), prio(l[j]); pi != pj {
				return pi > pj
			}
			return l[i] > l[j]
		})
	}
	sorted := sortedKeys(profiles)
	byPriority(sorted)
	var enabled []string
	for _, n := range sorted {
		if profiles[n]["Default"] == "yes" {
			enabled = append(enabled, n)
		}
	}
	// Conflicting profiles: the later one of each pair goes.
	for k := 0; k < len(enabled); k++ {
		for i := len(enabled) - 1; i >= 0; i-- {
			if conflicts[enabled[k]][enabled[i]] {
				enabled = append(enabled[:i], enabled[i+1:]...)
				if i < k {
					k--
				}
			}
		}
	}
	names := make([]string, len(sorted))
	for i, n := range sorted {
		names[i] = profiles[n]["Name"]
	}
	a.conf.subst("libpam-runtime/profiles", "profile_names", strings.Join(sorted, ", "))
	a.conf.subst("libpam-runtime/profiles", "profiles", strings.Join(names, ", "))
	a.conf.set("libpam-runtime/profiles", strings.Join(enabled, ", "))
	if err := a.ensureDir("var/lib/pam", 0o755); err != nil {
		return err
	}
	if err := a.replaceFile("var/lib/pam/seen", []byte(strings.Join(sorted, "\n")+"\n"), 0o644, 0, 0); err != nil {
		return err
	}
	for _, typ := range pamTypes {
		tmpl, err := a.t.ReadFile("usr/share/pam/common-" + typ)
		if err != nil {
			continue
		}
		out, ok := pamFromTemplate(string(tmpl), profiles, enabled, typ)
		if !ok {
			a.warn("libpam-runtime", "pam-auth-update: /usr/share/pam/common-"+typ+" lacks its markers; not written")
			continue
		}
		if err := a.replaceFile("etc/pam.d/common-"+typ, []byte(out), 0o644, 0, 0); err != nil {
			return err
		}
		if err := a.replaceFile("var/lib/pam/"+typ, []byte(pamSaved(profiles, enabled, typ)), 0o644, 0, 0); err != nil {
			return err
		}
	}
	a.conf.set("libpam-runtime/override", "false")
	return nil
}

func pamLines(profiles map[string]pamProfile, mod, uctype string, pos int) string {
	if pos == 0 && profiles[mod][uctype+"-Initial"] != "" {
		return profiles[mod][uctype+"-Initial"]
	}
	return profiles[mod][uctype]
}

func ucfirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

var pamModLine = regexp.MustCompile(`^((\[[^]]+\]|\w+)\s+\S+)\s*(.*)`)

// pamFromTemplate is create_from_template without local changes.
func pamFromTemplate(tmpl string, profiles map[string]pamProfile, enabled []string, typ string) (string, bool) {
	uctype := ucfirst(typ)
	short := strings.TrimSuffix(typ, "-noninteractive")
	var b strings.Builder
	state := 0
	modline, opts := "", ""
	for _, line := range strings.SplitAfter(tmpl, "\n") {
		if line == "" {
			continue
		}
		switch state {
		case 1:
			if strings.HasPrefix(line, "# here's the fallback if no module succeeds") {
				b.WriteString(line)
				state++
			}
			continue
		case 3:
			if strings.HasPrefix(line, "# end of pam-auth-update config") {
				b.WriteString(line)
				state++
			}
			continue
		}
		b.WriteString(line)
		val := ""
		switch {
		case state == 0 && strings.HasPrefix(line, `# here are the per-package modules (the "Primary" block)`):
			val = "Primary"
		case state == 2 && strings.HasPrefix(line, `# and here are more per-package modules (the "Additional" block)`):
			val = "Additional"
		default:
			continue
		}
		var mods []string
		for _, m := range enabled {
			if t := profiles[m][uctype+"-Type"]; t != "" && t == val {
				mods = append(mods, m)
			}
		}
		count := 0
		for i, m := range mods {
			count += len(perlSplitLines(pamLines(profiles, m, uctype, i)))
		}
		if val == "Additional" {
			count--
		}
		if val == "Primary" && count == 0 {
			b.WriteString(short + "\t[default=1]\t\t\tpam_permit.so\n")
		}
		for i, m := range mods {
			for _, l := range perlSplitLines(pamLines(profiles, m, uctype, i)) {
				if mm := pamModLine.FindStringSubmatch(l); mm != nil {
					modline, opts = mm[1], mm[3]
				}
				ml := strings.ReplaceAll(modline, "end", strconv.Itoa(count))
				b.WriteString(short + "\t" + ml + " " + strings.Join(strings.Fields(opts), " ") + "\n")
				count--
			}
		}
		state++
	}
	return b.String(), state >= 4
}

// pamSaved is the /var/lib/pam/TYPE record of the enabled stack.
func pamSaved(profiles map[string]pamProfile, enabled []string, typ string) string {
	uctype := ucfirst(typ)
	var b strings.Builder
	i := 0
	for _, m := range enabled {
		t := profiles[m][uctype+"-Type"]
		if t == "" || t == "Additional" {
			continue
		}
		if out := pamLines(profiles, m, uctype, i); out != "" {
			b.WriteString("Module: " + m + "\n" + out + "\n")
		}
		i++
	}
	if i == 0 {
		b.WriteString("Module: null\n[default=1]\t\t\tpam_permit.so\n")
	}
	i = 0
	for _, m := range enabled {
		t := profiles[m][uctype+"-Type"]
		if t == "" || t == "Primary" {
			continue
		}
		if out := pamLines(profiles, m, uctype, i); out != "" {
			b.WriteString("Module: " + m + "\n" + out + "\n")
		}
		i++
	}
	return b.String()
}

// perlSplitLines is Perl's split on newlines: runs of newlines separate,
// trailing empty fields go, an empty string has no fields.
func perlSplitLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		out = append(out, l)
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}
