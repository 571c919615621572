package deb

import (
	"fmt"
	"strings"

	"github.com/rootfsd/rootfsd/repo"
)

// Configuring without running package code.
//
// dpkg configures a package by running its maintainer scripts. rootfsd
// does not run them by default: they need the target's shell and tools,
// privileges, the target architecture, and they make builds
// irreproducible. Instead it knows what the scripts of the base packages
// do on a fresh install and does the same in Go (one cfg_*.go file per
// concern), and it recognises the blocks debhelper generates (systemd
// units, init scripts, alternatives, maintscript helpers). A package is
// covered when it has no install-time script (preinst, postinst, config),
// when a built-in handles it, or when nothing but recognised debhelper
// blocks remain of its scripts. Every other package is uncovered: named in
// a warning and in Assembled.Uncovered, or, with AssembleOptions.Scripts,
// configured by running its real scripts in a sandbox (scripts.go).
//
// Built-ins are keyed by package name, not version: each one does what
// the scripts of every supported release do on a fresh install, reading
// the package's own data (templates, master files, lists in the script)
// where releases differ.

// builtin is the equivalent of one package's install-time scripts.
type builtin struct {
	// preinst runs before the package is unpacked.
	preinst func(a *assembler, p *instPkg) error
	// postinst runs in configure order, after every package is unpacked.
	postinst func(a *assembler, p *instPkg) error
}

// builtinFor returns the built-in of a package, if it has one.
func builtinFor(name string) (builtin, bool) {
	switch name {
	case "base-files":
		return builtin{preinst: preinstBaseFiles, postinst: postinstBaseFiles}, true
	case "base-passwd":
		return builtin{preinst: preinstBasePasswd, postinst: postinstBasePasswd}, true
	case "bash":
		return builtin{postinst: postinstBash}, true
	case "dash":
		return builtin{postinst: postinstDash}, true
	case "debianutils":
		return builtin{postinst: postinstDebianutils}, true
	case "dpkg":
		return builtin{postinst: postinstDpkg}, true
	case "libc6":
		return builtin{preinst: preinstLibc6}, true
	case "libc-bin":
		return builtin{postinst: postinstLibcBin}, true
	case "login":
		return builtin{postinst: postinstLogin}, true
	case "libpam-modules":
		return builtin{postinst: postinstPamModules}, true
	case "libpam-runtime":
		return builtin{postinst: postinstPamRuntime}, true
	case "openssl":
		return builtin{postinst: postinstOpenSSL}, true
	case "coreutils":
		return builtin{postinst: postinstCoreutils}, true
	case "ca-certificates":
		return builtin{postinst: postinstCACertificates}, true
	case "tzdata":
		return builtin{postinst: postinstTzdata}, true
	case "usrmerge":
		return builtin{postinst: postinstUsrmerge}, true
	case "tar", "util-linux", "mawk", "debconf":
		// update-alternatives and debconf questions only: the generic
		// alternatives reader and the debconf database cover them.
		return builtin{postinst: postinstAlternativesOnly}, true
	case "libpam0g", "libgcrypt20", "gzip", "perl", "perl-base", "init-system-helpers",
		"util-linux-extra", "libpam-modules-bin", "libselinux1", "usr-is-merged",
		"libssl3", "libssl3t64", "libgssapi-krb5-2":
		// Their scripts act on upgrades only, or through debhelper blocks
		// handled generically, or through debconf.
		return builtin{postinst: postinstAlternativesOnly}, true
	}
	return builtin{}, false
}

// installScripts are the control members that run on a fresh install.
var installScripts = []string{"preinst", "config", "postinst"}

// hasScripts reports whether p has any install-time script.
func (p *instPkg) hasScripts() bool {
	for _, s := range installScripts {
		if len(p.script(s)) > 0 {
			return true
		}
	}
	return false
}

// preinst runs the built-in preinst of p, if any.
func (a *assembler) preinst(p *instPkg) error {
	if b, ok := builtinFor(p.name); ok && b.preinst != nil {
		if err := b.preinst(a, p); err != nil {
			return fmt.Errorf("%s preinst (built-in): %w", p.name, err)
		}
	}
	return nil
}

// configure runs the built-in postinsts and debhelper blocks in configure
// order, then the triggers, then the sandbox for uncovered packages when
// asked to. usrmerge's conversion is configured last of all packages: dpkg
// reaches it only once the Essential set it needs is configured, and what
// ran before it (update-shells) decides how /etc/shells looks.
func (a *assembler) configure() error {
	a.conf = newDebconfDB(a)
	var last *instPkg
	var uncovered []*instPkg
	for _, p := range a.pkgs {
		if p.name == "usrmerge" {
			last = p
			continue
		}
		ok, err := a.configurePkg(p)
		if err != nil {
			return err
		}
		if !ok {
			uncovered = append(uncovered, p)
		}
	}
	if last != nil {
		if _, err := a.configurePkg(last); err != nil {
			return err
		}
	}
	if err := a.runTriggers(); err != nil {
		return err
	}
	if err := a.writeDiversions(); err != nil {
		return err
	}
	if err := a.alts.write(a); err != nil {
		return err
	}
	if err := a.conf.write(); err != nil {
		return err
	}
	if len(uncovered) == 0 {
		return nil
	}
	if a.opt.Scripts {
		// The scripts see the database as dpkg would have it.
		if err := a.writeStatus(); err != nil {
			return err
		}
		return a.runScripts(uncovered)
	}
	for _, p := range uncovered {
		a.out.Uncovered = append(a.out.Uncovered, p.name+"="+p.version)
		a.warn(p.name, fmt.Sprintf("%s: its maintainer scripts have no built-in equivalent and were not run (use --scripts to run them in a sandbox)%s",
			p.name, divertNote(p)))
	}
	return nil
}

// configurePkg does what p's postinst does; false means p is uncovered.
func (a *assembler) configurePkg(p *instPkg) (bool, error) {
	a.opt.Report.Report(repo.Event{Kind: repo.EventConfig, Name: p.name})
	a.conf.register(p)
	if !p.hasScripts() {
		return true, nil
	}
	blocks, rest := debhelperBlocks(string(p.script("postinst")))
	for _, b := range blocks {
		if err := a.runDebhelper(p, b); err != nil {
			return false, fmt.Errorf("%s postinst (%s block): %w", p.name, b.tool, err)
		}
	}
	if b, ok := builtinFor(p.name); ok {
		if b.postinst != nil {
			if err := b.postinst(a, p); err != nil {
				return false, fmt.Errorf("%s postinst (built-in): %w", p.name, err)
			}
		}
		return true, nil
	}
	if !trivialScript(rest) || !trivialScript(stripDebhelper(string(p.script("preinst")))) ||
		len(p.script("config")) > 0 {
		return false, nil
	}
	return true, nil
}

// divertNote points out a dpkg-divert call in an uncovered package.
func divertNote(p *instPkg) string {
	for _, s := range installScripts {
		if strings.Contains(string(p.script(s)), "dpkg-divert") {
			return "; its " + s + " calls dpkg-divert, which was not applied"
		}
	}
	return ""
}

// trivialScript reports whether a shell script does nothing on a fresh
// install: only a shebang, comments, "set -e" and "exit 0" are left.
func trivialScript(s string) bool {
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "", strings.HasPrefix(line, "#"), line == "set -e", line == "exit 0", line == "exit":
		default:
			return false
		}
	}
	return true
}

// postinstAlternativesOnly runs the update-alternatives --install calls
// of the postinst outside debhelper blocks.
func postinstAlternativesOnly(a *assembler, p *instPkg) error {
	return a.scriptAlternatives(p)
}
