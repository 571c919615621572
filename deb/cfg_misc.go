package deb

import (
	"strings"
)

// Small built-ins: the fresh-install part of the postinsts of bash, dash,
// dpkg, coreutils, libc-bin, login, libpam-modules and openssl, and libc6's
// preinst.

// postinstBash links /bin/sh to bash when nothing provides it and
// registers the builtins(7) alternative.
func postinstBash(a *assembler, p *instPkg) error {
	if !a.exists("bin/sh") && !a.lexists("bin/sh") && a.isDir("bin") {
		if err := a.t.Symlink("bash", "bin/sh", a.attr(0o777)); err != nil {
			return err
		}
	}
	if err := a.addShells(p); err != nil {
		return err
	}
	return a.scriptAlternatives(p)
}

// postinstDash claims /bin/sh. Releases whose postinst has dash divert
// /bin/sh and sh.1.gz (bookworm) record those diversions and re-make the
// links; newer ones (noble) do nothing on a fresh install.
func postinstDash(a *assembler, p *instPkg) error {
	if err := a.addShells(p); err != nil {
		return err
	}
	if strings.Contains(string(p.script("config")), "dash/sh") {
		// jammy's config asks whether dash is /bin/sh; noninteractive
		// answers the default, yes.
		a.conf.seenDefault("dash/sh")
		a.conf.flag("dash/sh", "seen")
	}
	script := string(p.script("postinst"))
	if !strings.Contains(script, "--package dash --no-rename --divert $distrib --add $dfile") {
		return nil
	}
	claims := []struct{ file, target, distrib string }{{"/bin/sh", "dash", "/bin/sh.distrib"}}
	if a.isDir("usr/share/man/man1") {
		claims = append(claims, struct{ file, target, distrib string }{
			"/usr/share/man/man1/sh.1.gz", "dash.1.gz", "/usr/share/man/man1/sh.distrib.1.gz"})
	}
	for _, c := range claims {
		if by := a.divs.divertedFor(c.file, "dash"); by != "" && by != "bash" {
			continue
		}
		a.divs.remove(c.file)
		a.divs.add(c.file, c.distrib, "dash")
		if err := a.replaceSymlink(c.target, c.file); err != nil {
			return err
		}
	}
	return nil
}

// postinstDpkg is dpkg's setup_aliases (noble): /sbin/start-stop-daemon
// when /sbin holds no such file.
func postinstDpkg(a *assembler, p *instPkg) error {
	if strings.Contains(string(p.script("postinst")), "setup_aliases") &&
		!a.isFile("sbin/start-stop-daemon") && a.isDir("sbin") {
		return a.symlinkIfMissing("/usr/sbin/start-stop-daemon", "sbin/start-stop-daemon")
	}
	return nil
}

// postinstCoreutils links /usr/bin/touch on split-/usr systems (bookworm).
func postinstCoreutils(a *assembler, p *instPkg) error {
	if strings.Contains(string(p.script("postinst")), "/usr/bin/touch") && !a.exists("usr/bin/touch") {
		return a.symlinkIfMissing("/bin/touch", "usr/bin/touch")
	}
	return nil
}

// preinstLibc6 makes the /lib64 link on systems whose /lib is a link
// (and /lib64 not yet), and records the diversions the preinst adds with
// literal paths (noble: /lib64 for base-files, the dynamic loader).
func preinstLibc6(a *assembler, p *instPkg) error {
	script := string(p.script("preinst"))
	if strings.Contains(script, "usr/lib64") && a.isLink("lib") && !a.isLink("lib64") && !a.isDir("lib64") {
		if err := a.ensureDir("usr/lib64", 0o755); err != nil {
			return err
		}
		if err := a.t.Symlink("usr/lib64", "lib64", a.attr(0o777)); err != nil {
			return err
		}
	}
	a.literalDiversions(p, script)
	return nil
}

// literalDiversions records the "dpkg-divert --add" calls of a script
// whose words are all literal.
func (a *assembler) literalDiversions(p *instPkg, script string) {
	for _, args := range shellCommands(script, "dpkg-divert") {
		var pkg, to, from string
		add := false
		for i := 0; i < len(args); i++ {
			switch args[i] {
			case "--add":
				add = true
			case "--package":
				if i+1 < len(args) {
					pkg, i = args[i+1], i+1
				}
			case "--divert":
				if i+1 < len(args) {
					to, i = args[i+1], i+1
				}
			case "--local":
				pkg = ":"
			default:
				if !strings.HasPrefix(args[i], "--") {
					from = args[i]
				}
			}
		}
		if !add || from == "" || !strings.HasPrefix(from, "/") {
			continue
		}
		if pkg == "" {
			pkg = p.name // dpkg-divert's default in a maintainer script
		}
		if to == "" {
			to = from + ".distrib"
		}
		a.divs.add(from, to, pkg)
	}
}

// postinstLibcBin installs the default nsswitch.conf; the ld.so.cache is
// made by the ldconfig trigger.
func postinstLibcBin(a *assembler, p *instPkg) error {
	return a.copyIfMissing("usr/share/libc-bin/nsswitch.conf", "etc/nsswitch.conf")
}

// postinstLogin creates /var/log/faillog, /etc/subuid and /etc/subgid.
func postinstLogin(a *assembler, p *instPkg) error {
	script := string(p.script("postinst"))
	for _, f := range []string{"var/log/faillog", "etc/subuid", "etc/subgid"} {
		if strings.Contains(script, "/"+f) {
			if err := a.touch(f, 0o644, 0, 0); err != nil {
				return err
			}
		}
	}
	return nil
}

// postinstPamModules creates /etc/security/opasswd (0600) and
// /etc/environment, and on Ubuntu puts the default PATH into it when no
// PATH is set elsewhere.
func postinstPamModules(a *assembler, p *instPkg) error {
	script := string(p.script("postinst"))
	if strings.Contains(script, "/etc/security/opasswd") && a.isDir("etc/security") {
		if err := a.touch("etc/security/opasswd", 0o600, 0, 0); err != nil {
			return err
		}
	}
	if strings.Contains(script, "/etc/environment") && a.isDir("etc") {
		if err := a.touch("etc/environment", 0o644, 0, 0); err != nil {
			return err
		}
	}
	line := environmentPath(script)
	if line == "" {
		return nil
	}
	envConf, _ := a.t.ReadFile("etc/security/pam_env.conf")
	env, _ := a.t.ReadFile("etc/environment")
	if hasLinePrefix(string(envConf), "PATH") || hasLinePrefix(string(env), "PATH=") {
		return nil
	}
	if len(env) > 0 && env[len(env)-1] != '\n' {
		env = append(env, '\n')
	}
	return a.writeFile("etc/environment", append(env, line+"\n"...), 0o644)
}

// environmentPath finds `echo 'PATH=...' >> "$DPKG_ROOT"/etc/environment`.
func environmentPath(script string) string {
	for _, l := range strings.Split(script, "\n") {
		l = strings.TrimSpace(l)
		cmd, target, ok := strings.Cut(l, ">>")
		if !ok || !strings.HasPrefix(cmd, "echo ") {
			continue
		}
		words, _, lit := shellWords(strings.TrimSpace(target))
		if !lit || len(words) != 1 || words[0] != "/etc/environment" {
			continue
		}
		w, _, lit := shellWords(strings.TrimPrefix(cmd, "echo "))
		if lit && len(w) == 1 && strings.HasPrefix(w[0], "PATH=") {
			return w[0]
		}
	}
	return ""
}

func hasLinePrefix(s, prefix string) bool {
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}

// postinstOpenSSL links /usr/lib/ssl to /etc/ssl when the package did not.
func postinstOpenSSL(a *assembler, p *instPkg) error {
	if !a.exists("usr/lib/ssl") && a.isDir("usr/lib") {
		return a.replaceSymlink("/etc/ssl", "usr/lib/ssl")
	}
	return nil
}
