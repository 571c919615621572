package deb

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rootfsd/rootfsd/deb/internal/debtest"
	"github.com/rootfsd/rootfsd/repo"
	"github.com/rootfsd/rootfsd/repo/fstree"
)

const libControl = `Package: libtest1
Source: test (1:2.0-1)
Version: 1:2.0-1
Architecture: amd64
Maintainer: Test <test@example.org>
Installed-Size: 12
Pre-Depends: libc6(>=2.34)
Depends: libc6 (>= 2.34),   zlib1g|libz , perl:any
Breaks: old (<< 1)
Replaces: old (<< 1)
Section: libs
Priority: optional
Multi-Arch: same
Homepage: https://example.org/
Description: a test library
 It has a long description.
 .
 With paragraphs.
Original-Maintainer: Someone <someone@example.org>
`

func TestAssembleDpkgDatabase(t *testing.T) {
	tool := debtest.Deb{Package: "tool", Version: "0:1.5", Arch: "all",
		Control:      "Package: tool\nVersion: 0:1.5\nArchitecture: all\nEssential: no\nMaintainer: T <t@example.org>\nDescription: tool\n",
		ControlFiles: map[string]string{"conffiles": "/etc/tool.conf\n", "postinst": "#!/bin/sh\nset -e\nexit 0\n"},
		Data: append(asmDirs("etc", "usr/bin"), asmFile("./etc/tool.conf", "setting=1\n"),
			asmMode("./usr/bin/tool", "#!/bin/sh\n", 0o755))}
	lib := debtest.Deb{Package: "libtest1", Version: "1:2.0-1", Control: libControl,
		ControlFiles: map[string]string{"shlibs": "libtest 1 libtest1\n", "triggers": "activate-noawait ldconfig\n"},
		Data:         append(asmDirs("usr/lib/x86_64-linux-gnu"), asmFile("./usr/lib/x86_64-linux-gnu/libtest.so.1", "ELF"))}
	tr, res := mustAssemble(t, AssembleOptions{}, tool, lib)
	if len(res.Uncovered) > 0 || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "minimal /usr/lib/os-release") {
		t.Errorf("uncovered %v, warnings %v", res.Uncovered, res.Warnings)
	}
	want := "Package: libtest1\nStatus: install ok installed\nPriority: optional\nSection: libs\nInstalled-Size: 12\n" +
		"Maintainer: Test <test@example.org>\nArchitecture: amd64\nMulti-Arch: same\nSource: test (1:2.0-1)\nVersion: 1:2.0-1\n" +
		"Replaces: old (<< 1)\nDepends: libc6 (>= 2.34), zlib1g | libz, perl:any\nPre-Depends: libc6 (>= 2.34)\nBreaks: old (<< 1)\n" +
		"Description: a test library\n It has a long description.\n .\n With paragraphs.\n" +
		"Homepage: https://example.org/\nOriginal-Maintainer: Someone <someone@example.org>\n\n" +
		"Package: tool\nStatus: install ok installed\nMaintainer: T <t@example.org>\nArchitecture: all\nVersion: 1.5\n" +
		"Conffiles:\n /etc/tool.conf 2b7f7a1f4e9d5b1e6a4b6b0e3bba3b8c\nDescription: tool\n\n"
	want = strings.Replace(want, "2b7f7a1f4e9d5b1e6a4b6b0e3bba3b8c", md5Hex("setting=1\n"), 1)
	if diff := cmp.Diff(want, readTree(t, tr, "var/lib/dpkg/status")); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}
	files := map[string]struct {
		body string
		mode uint32
	}{
		"var/lib/dpkg/info/tool.list":               {"/.\n/etc\n/usr\n/usr/bin\n/etc/tool.conf\n/usr/bin/tool\n", 0o644},
		"var/lib/dpkg/info/tool.conffiles":          {"/etc/tool.conf\n", 0o644},
		"var/lib/dpkg/info/tool.postinst":           {"#!/bin/sh\nset -e\nexit 0\n", 0o644},
		"var/lib/dpkg/info/libtest1:amd64.shlibs":   {"libtest 1 libtest1\n", 0o644},
		"var/lib/dpkg/info/libtest1:amd64.md5sums":  {md5Hex("ELF") + "  usr/lib/x86_64-linux-gnu/libtest.so.1\n", 0o644},
		"var/lib/dpkg/info/format":                  {"1\n", 0o644},
		"var/lib/dpkg/arch":                         {"amd64\n", 0o644},
		"var/lib/dpkg/triggers/File":                {"", 0o644},
		"var/lib/dpkg/lock":                         {"", 0o640},
		"var/lib/dpkg/info/libtest1:amd64.triggers": {"activate-noawait ldconfig\n", 0o644},
		"var/lib/dpkg/info/tool.md5sums":            {md5Hex("setting=1\n") + "  etc/tool.conf\n" + md5Hex("#!/bin/sh\n") + "  usr/bin/tool\n", 0o644},
	}
	for p, w := range files {
		if got := readTree(t, tr, p); got != w.body {
			t.Errorf("%s = %q, want %q", p, got, w.body)
		}
		if i := lookup(t, tr, p); i.Mode != w.mode || i.UID != 0 || i.GID != 0 {
			t.Errorf("%s: mode %o owner %d:%d, want %o root", p, i.Mode, i.UID, i.GID, w.mode)
		}
	}
	if _, err := tr.Lookup("var/lib/dpkg/info/libtest1.list"); err == nil {
		t.Error("a Multi-Arch: same package's files must be named name:arch")
	}
	// The host's dpkg reads the database: every package at its version,
	// dpkg -S finds owners, dpkg --verify checks the files.
	if _, err := exec.LookPath("dpkg-query"); err != nil {
		t.Skip("no dpkg-query on the host")
	}
	root := writeOut(t, tr)
	admin := "--admindir=" + filepath.Join(root, "var/lib/dpkg")
	out, err := exec.Command("dpkg-query", admin, "-W", "-f=${db:Status-Abbrev}${Package} ${Version} ${Architecture}\n").CombinedOutput()
	if err != nil {
		t.Fatalf("dpkg-query: %v\n%s", err, out)
	}
	if diff := cmp.Diff("ii libtest1 1:2.0-1 amd64\nii tool 1.5 all\n", string(out)); diff != "" {
		t.Errorf("dpkg-query -W (-want +got):\n%s", diff)
	}
	out, err = exec.Command("dpkg-query", admin, "-S", "/usr/bin/tool").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "tool: /usr/bin/tool" {
		t.Errorf("dpkg -S: %v %q", err, out)
	}
	out, err = exec.Command("dpkg", admin, "--root="+root, "--verify").CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("dpkg --verify: %v %q", err, out)
	}
}

func TestAssembleReplaces(t *testing.T) {
	a := debtest.Deb{Package: "pa", Data: append(asmDirs("usr/bin"), asmFile("./usr/bin/x", "from a"), asmFile("./usr/bin/y", "a"))}
	b := debtest.Deb{Package: "pb", Data: append(asmDirs("usr/bin"), asmFile("./usr/bin/x", "from b"))}
	_, _, err := assemble(t, AssembleOptions{}, a, b)
	if !errors.Is(err, ErrRefusedEntry) || !strings.Contains(err.Error(), "usr/bin/x") || !strings.Contains(err.Error(), "Replaces") {
		t.Fatalf("overwrite without Replaces: %v", err)
	}
	// With Replaces the replacing package wins whatever the plan order,
	// and the file leaves the other package's list, as with dpkg.
	b.Control = "Package: pb\nVersion: 1.0\nArchitecture: amd64\nReplaces: pa (<< 2)\nMaintainer: T <t@example.org>\nDescription: b\n"
	for _, order := range [][]debtest.Deb{{a, b}, {b, a}} {
		tr, res := mustAssemble(t, AssembleOptions{}, order...)
		if got := readTree(t, tr, "usr/bin/x"); got != "from b" {
			t.Errorf("plan %s,%s: usr/bin/x = %q", order[0].Package, order[1].Package, got)
		}
		if diff := cmp.Diff([]string{"pa", "pb"}, res.Order); diff != "" {
			t.Errorf("order (-want +got):\n%s", diff)
		}
		if l := readTree(t, tr, "var/lib/dpkg/info/pa.list"); strings.Contains(l, "/usr/bin/x\n") {
			t.Errorf("a.list still lists the replaced file:\n%s", l)
		}
	}
	// A version outside the Replaces range does not count.
	b.Control = strings.Replace(b.Control, "pa (<< 2)", "pa (<< 1)", 1)
	if _, _, err := assemble(t, AssembleOptions{}, a, b); !errors.Is(err, ErrRefusedEntry) {
		t.Errorf("Replaces pa (<< 1) with pa 1.0: %v", err)
	}
}

func TestAssembleOrder(t *testing.T) {
	mk := func(name string) debtest.Deb {
		return debtest.Deb{Package: name, Data: asmDirs("usr/share/" + name)}
	}
	plan, open := debtest.Plan(t, map[string][]string{"app": {"libb", "liba"}, "libb": {"liba"}, "liba": {"libb"}},
		mk("zz"), mk("app"), mk("libb"), mk("liba"))
	tr := fstree.New(fstree.Options{TempDir: t.TempDir()})
	defer tr.Close()
	res, err := Assemble(context.Background(), tr, plan, open, AssembleOptions{Trim: "none"})
	if err != nil {
		t.Fatal(err)
	}
	// Dependencies first; liba and libb depend on each other, the cycle
	// is broken by name.
	if diff := cmp.Diff([]string{"zz", "liba", "libb", "app"}, res.Order); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}

func TestAssembleCoverage(t *testing.T) {
	dh := "#!/bin/sh\nset -e\n# Automatically added by dh_installdeb/13.11\ndpkg-maintscript-helper rm_conffile /etc/x 1.0~ -- \"$@\"\n# End automatically added section\nexit 0\n"
	odd := "#!/bin/sh\nset -e\nuseradd --system svc\n"
	tr, res := mustAssemble(t, AssembleOptions{},
		debtest.Deb{Package: "quiet", ControlFiles: map[string]string{"postinst": dh, "prerm": odd}},
		debtest.Deb{Package: "loud", ControlFiles: map[string]string{"postinst": odd}},
		debtest.Deb{Package: "asks", ControlFiles: map[string]string{"config": "#!/bin/sh\n. /usr/share/debconf/confmodule\n"}},
		debtest.Deb{Package: "diverts", ControlFiles: map[string]string{"preinst": "#!/bin/sh\ndpkg-divert --add /usr/bin/x\n"}})
	if diff := cmp.Diff([]string{"asks=1.0", "diverts=1.0", "loud=1.0"}, res.Uncovered); diff != "" {
		t.Errorf("uncovered (-want +got):\n%s", diff)
	}
	joined := strings.Join(res.Warnings, "\n")
	for _, want := range []string{"loud: its maintainer scripts have no built-in equivalent", "calls dpkg-divert"} {
		if !strings.Contains(joined, want) {
			t.Errorf("warnings lack %q:\n%s", want, joined)
		}
	}
	// Uncovered packages are still installed for dpkg.
	if !strings.Contains(readTree(t, tr, "var/lib/dpkg/status"), "Package: loud\nStatus: install ok installed\n") {
		t.Error("loud is not recorded as installed")
	}
}

func TestAssembleFailures(t *testing.T) {
	good := debtest.Deb{Package: "good"}
	cases := []struct {
		name string
		debs []debtest.Deb
		opt  AssembleOptions
		want string
	}{
		{"unknown trim", []debtest.Deb{good}, AssembleOptions{Trim: "all"}, "unknown trim profile"},
		{"bad user", []debtest.Deb{good}, AssembleOptions{Users: []string{"Root!"}}, "--user"},
		{"bad uid", []debtest.Deb{good}, AssembleOptions{Users: []string{"alice:x"}}, "uid"},
		{"name mismatch", []debtest.Deb{{Package: "good", Control: "Package: other\nVersion: 1.0\nArchitecture: amd64\n"}}, AssembleOptions{}, "the .deb is other"},
		{"bad conffiles", []debtest.Deb{{Package: "good", ControlFiles: map[string]string{"conffiles": "etc/relative\n"}}}, AssembleOptions{}, "conffiles line 1"},
		{"bad relation", []debtest.Deb{{Package: "good", Control: "Package: good\nVersion: 1.0\nArchitecture: amd64\nDepends: (>= 1)\n"}}, AssembleOptions{}, "Depends"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := assemble(t, tc.opt, tc.debs...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
	plan := &repo.Plan{Family: repo.FamilyAPK}
	if _, err := Assemble(context.Background(), fstree.New(fstree.Options{}), plan, nil, AssembleOptions{}); !errors.Is(err, ErrAssemble) {
		t.Errorf("apk plan: %v", err)
	}
}
