package deb

import (
	"testing"

	"github.com/rootfsd/rootfsd/deb/internal/debtest"
	"github.com/rootfsd/rootfsd/repo/fstree"
)

func TestBuiltinMisc(t *testing.T) {
	merged := debtest.Deb{Package: "base-files", Data: append(asmDirs("usr/bin", "usr/sbin", "usr/lib", "etc/security", "var/log", "usr/share/zoneinfo/Etc"),
		asmLink("./bin", "usr/bin"), asmLink("./sbin", "usr/sbin"), asmLink("./lib", "usr/lib"), asmFile("./usr/lib/os-release", "ID=test\n"))}
	login := debtest.Deb{Package: "login", ControlFiles: map[string]string{"postinst": testdata(t, "assemble-noble/login.postinst")}}
	pam := debtest.Deb{Package: "libpam-modules", Control: "Package: libpam-modules\nVersion: 1.0\nArchitecture: amd64\nMulti-Arch: same\n",
		ControlFiles: map[string]string{"postinst": testdata(t, "assemble-noble/libpam-modules.postinst")}}
	openssl := debtest.Deb{Package: "openssl", ControlFiles: map[string]string{"postinst": "#!/bin/sh\nif [ ! -e /usr/lib/ssl ]\nthen\n  ln -sf /etc/ssl /usr/lib/ssl\nfi\n"}}
	bash := debtest.Deb{Package: "bash", ControlFiles: map[string]string{"postinst": "#!/bin/sh\nif [ ! -e /bin/sh ]; then\n    ln -s bash /bin/sh\nfi\n"},
		Data: append(asmDirs("usr/bin"), asmMode("./usr/bin/bash", "ELF", 0o755))}
	dpkg := debtest.Deb{Package: "dpkg", ControlFiles: map[string]string{"postinst": "#!/bin/sh\nsetup_aliases()\n{\n  :\n}\nsetup_aliases\n"},
		Data: append(asmDirs("usr/sbin"), asmMode("./usr/sbin/start-stop-daemon", "ELF", 0o755))}
	tzdata := debtest.Deb{Package: "tzdata", Arch: "all", ControlFiles: map[string]string{"postinst": "#!/bin/sh\necho $AREA/$ZONE > /etc/timezone\n"},
		Data: append(asmDirs("usr/share/zoneinfo/Etc"), asmFile("./usr/share/zoneinfo/Etc/UTC", "TZif2"))}
	tr, res := mustAssemble(t, AssembleOptions{}, merged, login, pam, openssl, bash, dpkg, tzdata)
	if len(res.Uncovered) > 0 || len(realWarnings(res)) > 0 {
		t.Errorf("uncovered %v, warnings %v", res.Uncovered, realWarnings(res))
	}
	files := map[string]struct {
		mode uint32
		body string
	}{
		"var/log/faillog":            {0o644, ""},
		"etc/subuid":                 {0o644, ""},
		"etc/subgid":                 {0o644, ""},
		"etc/security/opasswd":       {0o600, ""},
		"etc/environment":            {0o644, "PATH=\"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/games:/usr/local/games:/snap/bin\"\n"},
		"etc/timezone":               {0o644, "Etc/UTC\n"},
		"usr/bin/bash":               {0o755, "ELF"},
		"usr/sbin/start-stop-daemon": {0o755, "ELF"},
	}
	for p, w := range files {
		i := lookup(t, tr, p)
		if i.Kind != fstree.KindFile || i.Mode != w.mode || readTree(t, tr, p) != w.body {
			t.Errorf("%s: %s %o %q, want %o %q", p, i.Kind, i.Mode, readTree(t, tr, p), w.mode, w.body)
		}
	}
	for link, target := range map[string]string{"usr/lib/ssl": "/etc/ssl", "usr/bin/sh": "bash", "etc/localtime": "/usr/share/zoneinfo/Etc/UTC"} {
		if i := lookup(t, tr, link); i.Kind != fstree.KindSymlink || i.Target != target {
			t.Errorf("%s: %s -> %q, want -> %q", link, i.Kind, i.Target, target)
		}
	}
}
