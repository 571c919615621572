package deb

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rootfsd/rootfsd/deb/internal/debtest"
)

func TestBuiltinAlternatives(t *testing.T) {
	// mawk's real postinst (a dh_installalternatives block) and a second
	// awk with a higher priority and fewer slaves, outside any block.
	mawk := debtest.Deb{Package: "mawk", ControlFiles: map[string]string{"postinst": testdata(t, "assemble-noble/mawk.postinst")},
		Data: append(asmDirs("usr/bin", "usr/share/man/man1"), asmMode("./usr/bin/mawk", "ELF", 0o755),
			asmFile("./usr/share/man/man1/mawk.1.gz", "man"))}
	gawk := debtest.Deb{Package: "tar", ControlFiles: map[string]string{"postinst": "#!/bin/sh\nset -e\n" +
		"update-alternatives --install /usr/bin/awk awk /usr/bin/gawk 10 \\\n  --slave /usr/share/man/man1/awk.1.gz awk.1.gz /usr/share/man/man1/gawk.1.gz\n" +
		"update-alternatives --install /usr/bin/rmt rmt /usr/sbin/missing 50 || true\n"},
		Data: append(asmDirs("usr/bin"), asmMode("./usr/bin/gawk", "ELF", 0o755))}
	tr, res := mustAssemble(t, AssembleOptions{}, mawk, gawk)
	if !strings.Contains(strings.Join(res.Warnings, "\n"), "/usr/sbin/missing doesn't exist") {
		t.Errorf("warnings: %v", res.Warnings)
	}
	// Auto mode picks gawk, the higher priority. It has no nawk slave
	// and its awk.1.gz does not exist: those links are not made.
	if diff := cmp.Diff([]string{"etc/alternatives/awk -> /usr/bin/gawk"}, treePaths(t, tr, "etc/alternatives/")); diff != "" {
		t.Errorf("links (-want +got):\n%s", diff)
	}
	if i := lookup(t, tr, "usr/bin/awk"); i.Target != "/etc/alternatives/awk" {
		t.Errorf("usr/bin/awk -> %q", i.Target)
	}
	for _, p := range []string{"usr/bin/nawk", "usr/share/man/man1/awk.1.gz"} {
		if _, err := tr.Lookup(p); err == nil {
			t.Errorf("%s exists", p)
		}
	}
	state := "auto\n/usr/bin/awk\nawk.1.gz\n/usr/share/man/man1/awk.1.gz\nnawk\n/usr/bin/nawk\nnawk.1.gz\n/usr/share/man/man1/nawk.1.gz\n\n" +
		"/usr/bin/mawk\n5\n/usr/share/man/man1/mawk.1.gz\n/usr/bin/mawk\n/usr/share/man/man1/mawk.1.gz\n" +
		"/usr/bin/gawk\n10\n/usr/share/man/man1/gawk.1.gz\n\n\n\n"
	if diff := cmp.Diff(state, readTree(t, tr, "var/lib/dpkg/alternatives/awk")); diff != "" {
		t.Errorf("state (-want +got):\n%s", diff)
	}
}

func TestAlternativesChoice(t *testing.T) {
	db := newAltDB()
	for _, c := range []struct {
		path string
		prio int
	}{{"/a", 5}, {"/b", 7}, {"/c", 7}} {
		if err := db.install("/usr/bin/x", "x", c.path, c.prio, nil); err != nil {
			t.Fatal(err)
		}
	}
	if got := db.byName["x"].best().path; got != "/b" {
		t.Errorf("best = %s, want /b (the first of the highest)", got)
	}
	db.byName["x"].manual = "/a"
	if got := db.byName["x"].best().path; got != "/a" {
		t.Errorf("manual best = %s", got)
	}
	if err := db.install("/usr/bin/y", "x", "/d", 1, nil); err == nil {
		t.Error("a second master link for the same name must fail")
	}
}
