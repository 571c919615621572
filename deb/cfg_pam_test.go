package deb

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rootfsd/rootfsd/deb/internal/debtest"
)

// pamRuntime is libpam-runtime with noble's real postinst, profiles and
// templates, plus extra profiles.
func pamRuntime(t *testing.T, extra map[string]string) debtest.Deb {
	data := asmDirs("usr/share/pam-configs", "usr/share/pam", "etc/pam.d", "var/lib/pam")
	for _, dir := range []string{"pam-configs", "pam"} {
		ents, err := os.ReadDir(filepath.Join("testdata/assemble-noble", dir))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			data = append(data, asmFile("./usr/share/"+dir+"/"+e.Name(), testdata(t, "assemble-noble/"+dir+"/"+e.Name())))
		}
	}
	for name, body := range extra {
		data = append(data, asmFile("./usr/share/pam-configs/"+name, body))
	}
	return debtest.Deb{Package: "libpam-runtime", Arch: "all", ControlFiles: map[string]string{"postinst": testdata(t, "assemble-noble/libpam-runtime.postinst")}, Data: data}
}

// TestBuiltinPam compares with the files pam-auth-update wrote in
// mmdebstrap's noble tree.
func TestBuiltinPam(t *testing.T) {
	tr, res := mustAssemble(t, AssembleOptions{}, pamRuntime(t, nil), debtest.Deb{Package: "debconf", Arch: "all"})
	if len(res.Uncovered) > 0 {
		t.Errorf("uncovered: %v", res.Uncovered)
	}
	for _, typ := range pamTypes {
		if diff := cmp.Diff(testdata(t, "assemble-noble/pam-out/pam.d/common-"+typ), readTree(t, tr, "etc/pam.d/common-"+typ)); diff != "" {
			t.Errorf("common-%s (-want +got):\n%s", typ, diff)
		}
	}
	for _, f := range append([]string{"seen"}, pamTypes...) {
		if diff := cmp.Diff(testdata(t, "assemble-noble/pam-out/lib-pam/"+f), readTree(t, tr, "var/lib/pam/"+f)); diff != "" {
			t.Errorf("var/lib/pam/%s (-want +got):\n%s", f, diff)
		}
	}
}

func TestPamStacking(t *testing.T) {
	systemd := "Name: Register user sessions in the systemd control group hierarchy\nDefault: yes\nPriority: 0\nSession-Interactive-Only: yes\nSession-Type: Additional\nSession:\n\toptional\tpam_systemd.so\n"
	krb := "Name: Kerberos authentication\nDefault: yes\nPriority: 704\nConflicts: winbind\nAuth-Type: Primary\nAuth:\n\t[success=end default=ignore]\tpam_krb5.so minimum_uid=1000\n\nAuth-Initial:\n\t[success=end default=ignore]\tpam_krb5.so minimum_uid=1000 try_first_pass\n"
	winbind := "Name: Winbind\nDefault: yes\nPriority: 192\nAuth-Type: Primary\nAuth:\n\t[success=end default=ignore]\tpam_winbind.so\n"
	tally := "Name: old tally\nDefault: yes\nPriority: 999\nAuth-Type: Primary\nAuth:\n\trequired pam_tally.so\n"
	tr, _ := mustAssemble(t, AssembleOptions{}, pamRuntime(t, map[string]string{"systemd": systemd, "krb5": krb, "winbind": winbind, "tally": tally}))
	auth := readTree(t, tr, "etc/pam.d/common-auth")
	// krb5 (704) conflicts with winbind, which goes; unix (256) follows;
	// the jumps count the lines below; pam_tally profiles are dropped.
	want := "auth\t[success=2 default=ignore]\tpam_krb5.so minimum_uid=1000 try_first_pass\nauth\t[success=1 default=ignore]\tpam_unix.so nullok try_first_pass\n"
	if !strings.Contains(auth, want) || strings.Contains(auth, "winbind") || strings.Contains(auth, "tally") {
		t.Errorf("common-auth:\n%s", auth)
	}
	if s := readTree(t, tr, "etc/pam.d/common-session"); !strings.Contains(s, "session\toptional\tpam_systemd.so \n") {
		t.Errorf("common-session:\n%s", s)
	}
	if s := readTree(t, tr, "etc/pam.d/common-session-noninteractive"); strings.Contains(s, "pam_systemd") {
		t.Errorf("an interactive-only profile in common-session-noninteractive:\n%s", s)
	}
	if diff := cmp.Diff("krb5\nunix\nwinbind\nsystemd\nmkhomedir\n", readTree(t, tr, "var/lib/pam/seen")); diff != "" {
		t.Errorf("seen (-want +got):\n%s", diff)
	}
}

func FuzzPamProfile(f *testing.F) {
	f.Add(testdata(f, "assemble-noble/pam-configs/unix"))
	f.Add("Name: x\nConflicts: a, b\nAuth-Final:\n\tfoo\n\n  bar  \n")
	f.Fuzz(func(t *testing.T, s string) {
		prof, _, _ := parsePamProfile(s)
		profiles := map[string]pamProfile{"p": prof}
		pamFromTemplate(testdata(t, "assemble-noble/pam/common-auth"), profiles, []string{"p"}, "auth")
		pamSaved(profiles, []string{"p"}, "session-noninteractive")
	})
}
