package deb

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rootfsd/rootfsd/deb/internal/debtest"
	"github.com/rootfsd/rootfsd/repo/fstree"
)

// A bookworm-like split-/usr set with the real scripts of dash, coreutils,
// debianutils and usrmerge: after the conversion the tree is merged, hard
// links are broken like cp breaks them, and /etc/shells and
// /var/lib/shells.state are what update-shells and convert-etc-shells
// leave, as in mmdebstrap's bookworm tree.
func TestBuiltinUsrmerge(t *testing.T) {
	bw := func(name string) string { return testdata(t, "assemble-bookworm/"+name) }
	debianutils := debtest.Deb{Package: "debianutils", ControlFiles: map[string]string{"postinst": bw("debianutils.postinst")},
		Data: append(asmDirs("usr/share/debianutils/shells.d", "usr/sbin", "usr/bin", "bin"),
			asmFile("./usr/share/debianutils/shells", "# /etc/shells: valid login shells\n/bin/sh\n"),
			asmMode("./usr/sbin/update-shells", "#!/bin/sh\nTEMPLATE_ETC_FILE=\"$ROOT/usr/share/debianutils/shells\"\n", 0o755),
			asmMode("./usr/bin/which.debianutils", "#!/bin/sh\n", 0o755),
			asmMode("./bin/run-parts", "ELF", 0o755))}
	bash := debtest.Deb{Package: "bash", Data: append(asmDirs("bin", "usr/share/debianutils/shells.d"),
		asmMode("./bin/bash", "ELF bash", 0o755), asmLink("./bin/rbash", "bash"),
		asmFile("./usr/share/debianutils/shells.d/bash", "/bin/bash\n/bin/rbash\n"))}
	dash := debtest.Deb{Package: "dash", ControlFiles: map[string]string{"postinst": bw("dash.postinst")},
		Data: append(asmDirs("bin", "usr/share/man/man1", "usr/share/debianutils/shells.d"),
			asmMode("./bin/dash", "ELF dash", 0o755), asmLink("./bin/sh", "dash"),
			asmFile("./usr/share/man/man1/dash.1.gz", "man"), asmLink("./usr/share/man/man1/sh.1.gz", "dash.1.gz"),
			asmFile("./usr/share/debianutils/shells.d/dash", "/bin/dash\n"))}
	coreutils := debtest.Deb{Package: "coreutils", ControlFiles: map[string]string{"postinst": bw("coreutils.postinst")},
		Data: append(asmDirs("bin", "usr/bin"), asmMode("./bin/touch", "ELF touch", 0o755), asmMode("./usr/bin/env", "ELF env", 0o755))}
	gzip := debtest.Deb{Package: "gzip", Data: append(asmDirs("bin"), asmMode("./bin/gunzip", "#!/bin/sh\n", 0o755),
		debtest.DebEntry{Name: "./bin/uncompress", Type: '1', Link: "./bin/gunzip"})}
	libc := debtest.Deb{Package: "libc6", Control: "Package: libc6\nVersion: 1.0\nArchitecture: amd64\nMulti-Arch: same\n",
		Data: append(asmDirs("lib/x86_64-linux-gnu", "lib64", "usr/lib/x86_64-linux-gnu"),
			asmMode("./lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", "ELF ld", 0o755),
			asmLink("./lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"),
			asmFile("./lib/x86_64-linux-gnu/libc.so.6", "ELF libc"),
			asmFile("./usr/lib/x86_64-linux-gnu/libz.so.1", "ELF libz"))}
	usrmerge := debtest.Deb{Package: "usrmerge", ControlFiles: map[string]string{"postinst": bw("usrmerge.postinst")}}
	tr, res := mustAssemble(t, AssembleOptions{}, debianutils, bash, dash, coreutils, gzip, libc, usrmerge)
	if len(res.Uncovered) > 0 {
		t.Errorf("uncovered: %v", res.Uncovered)
	}
	// sbin was never a directory, but usr/sbin exists: it gets its link.
	for dir, target := range map[string]string{"bin": "usr/bin", "lib": "usr/lib", "lib64": "usr/lib64", "sbin": "usr/sbin"} {
		if i := lookup(t, tr, dir); i.Kind != fstree.KindSymlink || i.Target != target {
			t.Errorf("%s: %s -> %q", dir, i.Kind, i.Target)
		}
	}
	if _, err := tr.Lookup("lib32"); err == nil {
		t.Error("lib32 existed nowhere and must not appear")
	}
	for p, body := range map[string]string{"usr/bin/bash": "ELF bash", "usr/bin/touch": "ELF touch", "usr/bin/gunzip": "#!/bin/sh\n",
		"usr/bin/uncompress": "#!/bin/sh\n", "usr/lib/x86_64-linux-gnu/libc.so.6": "ELF libc", "usr/lib/x86_64-linux-gnu/libz.so.1": "ELF libz"} {
		if got := readTree(t, tr, p); got != body {
			t.Errorf("%s = %q, want %q", p, got, body)
		}
		if i := lookup(t, tr, p); i.Kind != fstree.KindFile {
			t.Errorf("%s is a %s", p, i.Kind)
		}
	}
	// coreutils made /usr/bin/touch a link to /bin/touch before the
	// conversion; the conversion made it the file again.
	if i := lookup(t, tr, "usr/bin/touch"); i.Mode != 0o755 {
		t.Errorf("usr/bin/touch mode %o", i.Mode)
	}
	// cp broke the hard link between gunzip and uncompress.
	tr.Walk(func(i fstree.Info) error {
		if i.Link != "" {
			t.Errorf("%s is still a hard link to %s", i.Path, i.Link)
		}
		return nil
	})
	for link, target := range map[string]string{"usr/lib64/ld-linux-x86-64.so.2": "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
		"usr/bin/rbash": "bash", "usr/bin/sh": "dash", "usr/share/man/man1/sh.1.gz": "dash.1.gz"} {
		if i := lookup(t, tr, link); i.Kind != fstree.KindSymlink || i.Target != target {
			t.Errorf("%s: %s -> %q, want -> %q", link, i.Kind, i.Target, target)
		}
	}
	if _, err := tr.Stat("lib64/ld-linux-x86-64.so.2"); err != nil {
		t.Errorf("the dynamic loader does not resolve: %v", err)
	}
	wantShells := "# /etc/shells: valid login shells\n/bin/sh\n/bin/bash\n/bin/rbash\n/bin/dash\n/usr/bin/sh\n/usr/bin/bash\n/usr/bin/rbash\n/usr/bin/dash\n"
	if diff := cmp.Diff(wantShells, readTree(t, tr, "etc/shells")); diff != "" {
		t.Errorf("etc/shells (-want +got):\n%s", diff)
	}
	wantState := "/bin/sh\n/usr/bin/sh\n/bin/bash\n/usr/bin/bash\n/bin/rbash\n/usr/bin/rbash\n/bin/dash\n/usr/bin/dash\n"
	if diff := cmp.Diff(wantState, readTree(t, tr, "var/lib/shells.state")); diff != "" {
		t.Errorf("shells.state (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(testdata(t, "assemble-bookworm/diversions"), readTree(t, tr, "var/lib/dpkg/diversions")); diff != "" {
		t.Errorf("diversions (-want +got):\n%s", diff)
	}
	// The lists keep the paths the packages shipped, as dpkg's do.
	if l := readTree(t, tr, "var/lib/dpkg/info/coreutils.list"); !strings.Contains(l, "\n/bin/touch\n") {
		t.Errorf("coreutils.list:\n%s", l)
	}
}

func TestUsrmergeConflict(t *testing.T) {
	a := debtest.Deb{Package: "pa", Data: append(asmDirs("bin"), asmFile("./bin/x", "a"))}
	b := debtest.Deb{Package: "pb", Data: append(asmDirs("usr/bin"), asmFile("./usr/bin/x", "b"))}
	usrmerge := debtest.Deb{Package: "usrmerge", ControlFiles: map[string]string{"postinst": testdata(t, "assemble-bookworm/usrmerge.postinst")}}
	_, _, err := assemble(t, AssembleOptions{}, a, b, usrmerge)
	if err == nil || !strings.Contains(err.Error(), "both /bin/x and /usr/bin/x exist") {
		t.Fatalf("err = %v", err)
	}
}

// TestLegacyShells is jammy: update-shells without a template (its
// script has no TEMPLATE_ETC_FILE), bash and dash calling add-shell.
func TestLegacyShells(t *testing.T) {
	debianutils := debtest.Deb{Package: "debianutils", ControlFiles: map[string]string{"postinst": "#!/bin/sh\nset -e\nif test -z \"$2\" && test ! -f /etc/shells; then cp -p /usr/share/debianutils/shells /etc/shells; fi\nupdate-shells --root \"${DPKG_ROOT:-}\"\n"},
		Data: append(asmDirs("usr/share/debianutils/shells.d", "usr/sbin", "etc", "bin"),
			asmFile("./usr/share/debianutils/shells", "# /etc/shells: valid login shells\n/bin/sh\n"),
			asmMode("./usr/sbin/update-shells", "#!/bin/sh\nfor f in \"$PKG_DIR/\"*; do :; done\n", 0o755),
			asmMode("./usr/sbin/add-shell", "#!/bin/sh\n", 0o755))}
	bash := debtest.Deb{Package: "bash", ControlFiles: map[string]string{"postinst": "#!/bin/sh\nset -e\nif [ \"$1\" = configure ] && which add-shell >/dev/null; then\n    add-shell /bin/bash\n    add-shell /bin/rbash\nfi\n"},
		Data: append(asmDirs("bin"), asmMode("./bin/bash", "ELF", 0o755), asmLink("./bin/rbash", "bash"))}
	dash := debtest.Deb{Package: "dash", ControlFiles: map[string]string{"postinst": "#!/bin/sh\nadd_shell() {\n\tadd-shell /bin/dash\n}\nadd_shell\n"},
		Data: append(asmDirs("bin"), asmMode("./bin/dash", "ELF", 0o755))}
	// bash and dash depend on debianutils, which makes /etc/shells.
	plan, open := debtest.Plan(t, map[string][]string{"bash": {"debianutils"}, "dash": {"debianutils"}}, bash, dash, debianutils)
	tr := fstree.New(fstree.Options{TempDir: t.TempDir()})
	defer tr.Close()
	res, err := Assemble(t.Context(), tr, plan, open, AssembleOptions{Trim: "none"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Uncovered) > 0 {
		t.Errorf("uncovered: %v", res.Uncovered)
	}
	if diff := cmp.Diff("# /etc/shells: valid login shells\n/bin/sh\n/bin/bash\n/bin/rbash\n/bin/dash\n", readTree(t, tr, "etc/shells")); diff != "" {
		t.Errorf("etc/shells (-want +got):\n%s", diff)
	}
	if got := readTree(t, tr, "var/lib/shells.state"); got != "" {
		t.Errorf("shells.state = %q, want empty: the old update-shells reads shells.d only", got)
	}
}
