package deb

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rootfsd/rootfsd/deb/internal/debtest"
)

// initSystemHelpers stands in for init-system-helpers: only the presence
// of its tools matters.
func initSystemHelpers() debtest.Deb {
	return debtest.Deb{Package: "init-system-helpers", Arch: "all", Data: append(asmDirs("usr/bin", "usr/sbin"),
		asmMode("./usr/bin/deb-systemd-helper", "#!/usr/bin/perl\n", 0o755),
		asmMode("./usr/sbin/update-rc.d", "#!/usr/bin/perl\n", 0o755))}
}

const dhSystemdBlock = `# Automatically added by dh_installsystemd/13.14.1ubuntu5
if [ "$1" = "configure" ] || [ "$1" = "abort-upgrade" ] || [ "$1" = "abort-deconfigure" ] || [ "$1" = "abort-remove" ] ; then
	# The following line should be removed in trixie or trixie+1
	deb-systemd-helper unmask 'UNIT' >/dev/null || true

	# was-enabled defaults to true, so new installations run enable.
	if deb-systemd-helper --quiet was-enabled 'UNIT'; then
		# Enables the unit on first installation, creates new
		# symlinks on upgrades if the unit file has changed.
		deb-systemd-helper enable 'UNIT' >/dev/null || true
	else
		# Update the statefile to add new symlinks (if any), which need to be
		# cleaned up on purge. Also remove old symlinks.
		deb-systemd-helper update-state 'UNIT' >/dev/null || true
	fi
fi
# End automatically added section
`

func TestDebhelperSystemd(t *testing.T) {
	postinst := "#!/bin/sh\nset -e\n" + strings.ReplaceAll(dhSystemdBlock, "UNIT", "fstrim.timer") +
		strings.ReplaceAll(dhSystemdBlock, "UNIT", "svc.service")
	util := debtest.Deb{Package: "util-linux", ControlFiles: map[string]string{"postinst": postinst},
		Data: append(asmDirs("usr/lib/systemd/system"),
			asmFile("./usr/lib/systemd/system/fstrim.timer", testdata(t, "assemble-noble/fstrim.timer")),
			asmFile("./usr/lib/systemd/system/svc.service", "[Unit]\nDescription=x\n[Install]\nWantedBy=multi-user.target\nRequiredBy=\"b.target\"\nAlias=svc-alias.service\nAlso=helper.socket\n"),
			asmFile("./usr/lib/systemd/system/helper.socket", "[Install]\nWantedBy=sockets.target\n"))}
	// Merged-/usr, as on noble: deb-systemd-helper finds /lib/systemd/system first.
	usr := debtest.Deb{Package: "base-files", Data: append(asmDirs("usr/lib"), asmLink("./lib", "usr/lib"))}
	tr, res := mustAssemble(t, AssembleOptions{}, usr, initSystemHelpers(), util)
	if len(res.Uncovered) > 0 {
		t.Errorf("uncovered: %v", res.Uncovered)
	}
	want := []string{
		"etc/systemd/system/b.target.requires",
		"etc/systemd/system/b.target.requires/svc.service -> /lib/systemd/system/svc.service",
		"etc/systemd/system/multi-user.target.wants",
		"etc/systemd/system/multi-user.target.wants/svc.service -> /lib/systemd/system/svc.service",
		"etc/systemd/system/sockets.target.wants",
		"etc/systemd/system/sockets.target.wants/helper.socket -> /lib/systemd/system/helper.socket",
		"etc/systemd/system/svc-alias.service -> /lib/systemd/system/svc.service",
		"etc/systemd/system/timers.target.wants",
		"etc/systemd/system/timers.target.wants/fstrim.timer -> /lib/systemd/system/fstrim.timer",
	}
	if diff := cmp.Diff(want, treePaths(t, tr, "etc/systemd/system/")); diff != "" {
		t.Errorf("links (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff("/etc/systemd/system/timers.target.wants/fstrim.timer\n", readTree(t, tr, "var/lib/systemd/deb-systemd-helper-enabled/fstrim.timer.dsh-also")); diff != "" {
		t.Errorf("fstrim state (-want +got):\n%s", diff)
	}
	// In the order of the unit file's lines, Also= and Alias= before the
	// WantedBy= links, as get_link_closure collects them.
	wantState := "/etc/systemd/system/svc-alias.service\n/etc/systemd/system/sockets.target.wants/helper.socket\n" +
		"/etc/systemd/system/multi-user.target.wants/svc.service\n/etc/systemd/system/b.target.requires/svc.service\n"
	if diff := cmp.Diff(wantState, readTree(t, tr, "var/lib/systemd/deb-systemd-helper-enabled/svc.service.dsh-also")); diff != "" {
		t.Errorf("svc state (-want +got):\n%s", diff)
	}
	if i := lookup(t, tr, "var/lib/systemd/deb-systemd-helper-enabled/timers.target.wants/fstrim.timer"); i.Size != 0 || i.Mode != 0o644 {
		t.Errorf("state stamp: %+v", i)
	}

	// Without init-system-helpers the blocks do nothing, as their
	// "|| true" makes them.
	tr, _ = mustAssemble(t, AssembleOptions{}, usr, util)
	if got := treePaths(t, tr, "etc/systemd"); len(got) > 0 {
		t.Errorf("links without deb-systemd-helper: %v", got)
	}
}

func TestDebhelperInit(t *testing.T) {
	hwclock := debtest.Deb{Package: "util-linux-extra", ControlFiles: map[string]string{"postinst": testdata(t, "assemble-bookworm/util-linux-extra.postinst")},
		Data: append(asmDirs("etc/init.d", "etc/rc1.d"), asmMode("./etc/init.d/hwclock.sh", testdata(t, "assemble-bookworm/hwclock.sh.head"), 0o755))}
	tr, res := mustAssemble(t, AssembleOptions{}, initSystemHelpers(), hwclock)
	if len(res.Uncovered) > 0 {
		t.Errorf("uncovered: %v", res.Uncovered)
	}
	want := []string{
		"etc/rc0.d", "etc/rc0.d/K01hwclock.sh -> ../init.d/hwclock.sh",
		"etc/rc1.d",
		"etc/rc6.d", "etc/rc6.d/K01hwclock.sh -> ../init.d/hwclock.sh",
		"etc/rcS.d", "etc/rcS.d/S01hwclock.sh -> ../init.d/hwclock.sh",
	}
	if diff := cmp.Diff(want, treePaths(t, tr, "etc/rc")); diff != "" {
		t.Errorf("links (-want +got):\n%s", diff)
	}
}

func TestDebhelperBlocks(t *testing.T) {
	script := "#!/bin/sh\nset -e\n" + strings.ReplaceAll(dhSystemdBlock, "UNIT", "a.service") +
		"# Automatically added by dh_unknowntool/1\nfrobnicate\n# End automatically added section\n" +
		"# Automatically added by dh_installdeb/13\ndpkg-maintscript-helper rm_conffile /etc/x 1 -- \"$@\"\n# End automatically added section\n" +
		"# Automatically added by dh_installinit/13\nupdate-rc.d x defaults\n" // unterminated
	blocks, rest := debhelperBlocks(script)
	var tools []string
	for _, b := range blocks {
		tools = append(tools, b.tool)
	}
	if diff := cmp.Diff([]string{"dh_installsystemd", "dh_installdeb"}, tools); diff != "" {
		t.Errorf("blocks (-want +got):\n%s", diff)
	}
	for _, want := range []string{"frobnicate", "dh_unknowntool", "update-rc.d x defaults"} {
		if !strings.Contains(rest, want) {
			t.Errorf("rest lacks %q:\n%s", want, rest)
		}
	}
	if trivialScript(rest) {
		t.Error("an unknown block is not trivial")
	}
	if !trivialScript("#!/bin/sh\n# comment\nset -e\n\nexit 0\n") {
		t.Error("a script that does nothing is trivial")
	}
}

func TestLSBRunlevels(t *testing.T) {
	start, stop := lsbRunlevels(testdata(t, "assemble-bookworm/hwclock.sh.head"))
	if diff := cmp.Diff([][]string{{"S"}, {"0", "6"}}, [][]string{start, stop}); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	start, stop = lsbRunlevels("# Default-Start: 2 3\n### BEGIN INIT INFO\n# Default-Start: 2 3 4 5 x 99\n### END INIT INFO\n# Default-Stop: 1\n")
	if diff := cmp.Diff([][]string{{"2", "3", "4", "5"}, nil}, [][]string{start, stop}); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
