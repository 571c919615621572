package deb

import (
	"fmt"
	"strings"

	"github.com/rootfsd/rootfsd/repo/fstree"
)

// Trim profiles: what of the packages' contents stays out of the image.
// They are dpkg path filters (dpkg.cfg(5) path-exclude / path-include,
// last match wins, fnmatch(3) patterns where * spans slashes), applied
// here the way dpkg applies them while unpacking, before anything is
// configured, and written to /etc/dpkg/dpkg.cfg.d/rootfsd-trim so that
// "apt install" inside the image leaves out the same paths.
//
//	none     everything the packages ship
//	docs     (the default) no /usr/share/doc except copyright files, no
//	         man pages, info, groff, lintian or linda files, no
//	         translations or locales other than C/C.UTF-8
//	minimal  docs, and no apt package lists, apt caches or archives
//
// Whatever the profile, logs and backups that make a tree irreproducible
// (dpkg.log, alternatives.log, apt's logs, ldconfig's aux-cache, dpkg's
// and debconf's *-old files) are not kept, as mmdebstrap removes them.

// trimProfiles are the accepted --trim values.
var trimProfiles = []string{"none", "docs", "minimal"}

// DefaultTrim is the profile of an empty AssembleOptions.Trim.
const DefaultTrim = "docs"

// trimConfig is the dpkg configuration file the rules are recorded in.
const trimConfig = "etc/dpkg/dpkg.cfg.d/rootfsd-trim"

type filterRule struct {
	include bool
	pattern string
}

func (r filterRule) String() string {
	if r.include {
		return "path-include=" + r.pattern
	}
	return "path-exclude=" + r.pattern
}

var docsRules = []filterRule{
	{false, "/usr/share/doc/*"},
	{true, "/usr/share/doc/*/copyright"},
	{false, "/usr/share/man/*"},
	{false, "/usr/share/info/*"},
	{false, "/usr/share/groff/*"},
	{false, "/usr/share/lintian/*"},
	{false, "/usr/share/linda/*"},
	{false, "/usr/share/locale/*"},
	{true, "/usr/share/locale/locale.alias"},
	{false, "/usr/lib/locale/*"},
	{true, "/usr/lib/locale/C.utf8/*"},
	{true, "/usr/lib/locale/C.UTF-8/*"},
	{false, "/usr/share/i18n/locales/*"},
	{true, "/usr/share/i18n/locales/C"},
}

// minimalRules are the docs rules; minimal also drops apt's lists and
// caches, which are not package contents (see writeTrimConfig).
var minimalRules = docsRules

// TrimRules returns the dpkg configuration lines of a trim profile ("" is
// "docs"), as written to /etc/dpkg/dpkg.cfg.d/rootfsd-trim, or an error
// naming the accepted profiles.
func TrimRules(profile string) ([]string, error) {
	rules, err := trimRules(profile)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(rules))
	for i, r := range rules {
		out[i] = r.String()
	}
	return out, nil
}

// trimRules returns the dpkg path filters of a profile.
func trimRules(name string) ([]filterRule, error) {
	switch name {
	case "", DefaultTrim:
		return docsRules, nil
	case "none":
		return nil, nil
	case "minimal":
		return minimalRules, nil
	}
	return nil, fmt.Errorf("unknown trim profile %q: use one of %s", name, strings.Join(trimProfiles, ", "))
}

// filterSkips is dpkg's filter_should_skip for a path ("/usr/share/doc/x")
// of kind k: the last matching rule decides; a directory or symlink that
// is excluded stays when an include pattern needs it.
func filterSkips(rules []filterRule, p string, k fstree.Kind) bool {
	skip := false
	for _, r := range rules {
		if fnmatch(r.pattern, p) {
			skip = !r.include
		}
	}
	if !skip || k != fstree.KindDir && k != fstree.KindSymlink {
		return skip
	}
	for _, r := range rules {
		if !r.include {
			continue
		}
		n := strings.IndexAny(r.pattern, "*?[\\")
		if n < 0 {
			n = len(r.pattern)
		}
		prefix := strings.TrimRight(r.pattern[:n], "/")
		if strings.HasPrefix(p, prefix) {
			return false
		}
	}
	return true
}

// applyTrim removes what the filters leave out from the packages' files.
func (a *assembler) applyTrim() error {
	if len(a.trim) == 0 {
		return nil
	}
	var infos []fstree.Info
	if err := a.t.Walk(func(i fstree.Info) error {
		if i.Path != "." && i.Owner != "" {
			infos = append(infos, i)
		}
		return nil
	}); err != nil {
		return err
	}
	for k := len(infos) - 1; k >= 0; k-- { // children before their parents
		i := infos[k]
		if !filterSkips(a.trim, "/"+i.Path, i.Kind) {
			continue
		}
		err := a.t.Remove(i.Path)
		if err != nil && i.Kind == fstree.KindDir {
			continue // not empty: something kept needs it
		}
		if err != nil {
			return fmt.Errorf("trim: %w", err)
		}
	}
	return nil
}

// writeTrimConfig records the rules for dpkg inside the image and drops
// irreproducible logs and caches.
func (a *assembler) writeTrimConfig() error {
	drop := []string{"var/log/dpkg.log", "var/log/alternatives.log", "var/log/apt/history.log",
		"var/log/apt/term.log", "var/log/apt/eipp.log.xz", "var/cache/ldconfig/aux-cache",
		dpkgAdmin + "/status-old", dpkgAdmin + "/diversions-old", debconfDir + "/config.dat-old",
		debconfDir + "/templates.dat-old", debconfDir + "/passwords.dat-old"}
	if a.opt.Trim == "minimal" {
		for _, dir := range []string{"var/lib/apt/lists", "var/lib/apt/lists/partial", "var/cache/apt",
			"var/cache/apt/archives", "var/cache/apt/archives/partial", "var/log/apt"} {
			for _, name := range a.readDir(dir) {
				if name != "lock" && name != "partial" && !a.isDir(dir+"/"+name) {
					drop = append(drop, dir+"/"+name)
				}
			}
		}
	}
	for _, p := range drop {
		if i, err := a.t.Lookup(p); err == nil && i.Kind != fstree.KindDir {
			if err := a.t.Remove(p); err != nil {
				return err
			}
		}
	}
	if len(a.trim) == 0 || !a.isDir("etc/dpkg/dpkg.cfg.d") {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Written by rootfsd: trim profile %q. dpkg leaves these paths out of\n# the packages it installs, as they were left out of this image.\n", trimName(a.opt.Trim))
	for _, r := range a.trim {
		b.WriteString(r.String() + "\n")
	}
	return a.t.WriteFile(trimConfig, []byte(b.String()), a.attr(0o644))
}

func trimName(s string) string {
	if s == "" {
		return DefaultTrim
	}
	return s
}

// fnmatch is fnmatch(3) without flags: * and ? match any character,
// slashes and leading dots included; [...] is a bracket expression (! or ^
// negates, ranges with -); a backslash quotes the next character.
func fnmatch(pattern, name string) bool {
	px, nx := 0, 0
	starP, starN := -1, -1
	for nx < len(name) || px < len(pattern) {
		if px < len(pattern) {
			switch c := pattern[px]; c {
			case '*':
				starP, starN = px, nx
				px++
				continue
			case '?':
				if nx < len(name) {
					px++
					nx++
					continue
				}
			case '[':
				if nx < len(name) {
					if ok, width, valid := matchBracket(pattern[px:], name[nx]); valid {
						if ok {
							px += width
							nx++
							continue
						}
						break
					}
				}
				if nx < len(name) && name[nx] == '[' { // an unclosed [ is literal
					px++
					nx++
					continue
				}
			case '\\':
				if px+1 < len(pattern) && nx < len(name) && name[nx] == pattern[px+1] {
					px += 2
					nx++
					continue
				}
				if px+1 == len(pattern) && nx < len(name) && name[nx] == '\\' {
					px++
					nx++
					continue
				}
			default:
				if nx < len(name) && name[nx] == c {
					px++
					nx++
					continue
				}
			}
		}
		if starP >= 0 && starN < len(name) {
			px, nx = starP+1, starN+1
			starN++
			continue
		}
		return false
	}
	return true
}

// matchBracket matches c against the bracket expression at the start of
// p; width is the length of the expression; valid is false when it is not
// closed.
func matchBracket(p string, c byte) (ok bool, width int, valid bool) {
	i := 1
	neg := false
	if i < len(p) && (p[i] == '!' || p[i] == '^') {
		neg = true
		i++
	}
	first := true
	for i < len(p) {
		if p[i] == ']' && !first {
			return ok != neg, i + 1, true
		}
		first = false
		lo := p[i]
		if lo == '\\' && i+1 < len(p) {
			i++
			lo = p[i]
		}
		i++
		hi := lo
		if i+1 < len(p) && p[i] == '-' && p[i+1] != ']' {
			hi = p[i+1]
			if hi == '\\' && i+2 < len(p) {
				hi = p[i+2]
				i++
			}
			i += 2
		}
		if lo <= c && c <= hi {
			ok = true
		}
	}
	return false, 0, false
}
