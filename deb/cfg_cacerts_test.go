package deb

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rootfsd/rootfsd/deb/internal/debtest"
)

// caFixture is ca-certificates with noble's real postinst and a config
// script whose CERTS_LIST names the fixture's certificates, as the real
// one names Mozilla's.
func caFixture(t *testing.T) (debtest.Deb, map[string]string) {
	cn := func(s string) pkix.RDNSequence {
		return pkix.RDNSequence{{atv(oidCN, asn1.TagPrintableString, []byte(s))}}
	}
	a := string(selfSigned(t, cn("Shared Root"), 1))
	certs := map[string]string{
		"mozilla/A_Root.crt":      a,
		"mozilla/B_Root.crt":      string(selfSigned(t, cn("shared   ROOT"), 2)), // same hash as A
		"mozilla/C_Dup.crt":       a,                                             // the same certificate as A
		"mozilla/D_NoNewline.crt": strings.TrimSuffix(string(selfSigned(t, cn("Other"), 3)), "\n"),
	}
	names := make([]string, 0, len(certs))
	for n := range certs {
		names = append(names, n)
	}
	sort.Strings(names)
	config := regexp.MustCompile(`(?m)^CERTS_LIST=.*$`).ReplaceAllString(testdata(t, "assemble-noble/ca-certificates.config"),
		`CERTS_LIST="`+strings.Join(names, ", ")+`"`)
	data := asmDirs("usr/share/ca-certificates/mozilla", "etc/ssl/certs", "etc/ca-certificates/update.d", "usr/local/share")
	for _, n := range names {
		data = append(data, asmFile("./usr/share/ca-certificates/"+n, certs[n]))
	}
	return debtest.Deb{Package: "ca-certificates", Arch: "all", ControlFiles: map[string]string{
		"config": config, "postinst": testdata(t, "assemble-noble/ca-certificates.postinst"),
		"templates": testdata(t, "assemble-noble/ca-certificates.templates")}, Data: data}, certs
}

func TestBuiltinCACertificates(t *testing.T) {
	ca, certs := caFixture(t)
	debconf := debtest.Deb{Package: "debconf", Arch: "all"}
	local := debtest.Deb{Package: "local-ca", Data: append(asmDirs("usr/local/share/ca-certificates/extra"),
		asmFile("./usr/local/share/ca-certificates/extra/My CA (x),y.crt", string(selfSigned(t, pkix.RDNSequence{{atv(oidCN, asn1.TagUTF8String, []byte("Mine"))}}, 9))))}
	tr, res := mustAssemble(t, AssembleOptions{}, debconf, ca, local)
	if len(res.Uncovered) > 0 || len(realWarnings(res)) > 0 {
		t.Errorf("uncovered %v warnings %v", res.Uncovered, realWarnings(res))
	}
	conf := readTree(t, tr, "etc/ca-certificates.conf")
	wantList := "mozilla/A_Root.crt\nmozilla/B_Root.crt\nmozilla/C_Dup.crt\nmozilla/D_NoNewline.crt\n"
	if !strings.HasPrefix(conf, "# This file lists certificates") || !strings.HasSuffix(conf, "#\n"+wantList) {
		t.Errorf("ca-certificates.conf:\n%s", conf)
	}
	bundle := readTree(t, tr, "etc/ssl/certs/ca-certificates.crt")
	wantBundle := certs["mozilla/A_Root.crt"] + certs["mozilla/B_Root.crt"] + certs["mozilla/C_Dup.crt"] +
		certs["mozilla/D_NoNewline.crt"] + "\n" + readTree(t, tr, "usr/local/share/ca-certificates/extra/My CA (x),y.crt")
	if bundle != wantBundle {
		t.Errorf("bundle differs:\n%s", bundle)
	}
	if i := lookup(t, tr, "usr/local/share/ca-certificates"); i.Mode != 0o755 {
		t.Errorf("usr/local/share/ca-certificates mode %o", i.Mode)
	}
	ours := treePaths(t, tr, "etc/ssl/certs/")
	// Two hash links for the two certificates with the same subject, none
	// for the duplicate.
	var hashLinks []string
	for _, l := range ours {
		if regexp.MustCompile(`/[0-9a-f]{8}\.\d -> `).MatchString(l) {
			hashLinks = append(hashLinks, l[strings.LastIndex(l, ".")-8:])
		}
	}
	if _, err := tr.Lookup("etc/ssl/certs/My_CA_=x=_y.pem"); err != nil {
		t.Error(err)
	}
	if len(hashLinks) != 4 {
		t.Errorf("hash links: %v", hashLinks)
	}

	// The host's update-ca-certificates on the same tree agrees.
	if _, err := exec.LookPath("update-ca-certificates"); err != nil {
		t.Skip("no update-ca-certificates on the host")
	}
	root := writeOut(t, tr)
	etc := filepath.Join(t.TempDir(), "certs")
	os.MkdirAll(etc, 0o755)
	out, err := exec.Command("update-ca-certificates", "--certsconf", filepath.Join(root, "etc/ca-certificates.conf"),
		"--certsdir", filepath.Join(root, "usr/share/ca-certificates"), "--localcertsdir", filepath.Join(root, "usr/local/share/ca-certificates"),
		"--etccertsdir", etc, "--hooksdir", filepath.Join(etc, "none")).CombinedOutput()
	if err != nil {
		t.Fatalf("update-ca-certificates: %v\n%s", err, out)
	}
	theirs, _ := os.ReadFile(filepath.Join(etc, "ca-certificates.crt"))
	if string(theirs) != bundle {
		t.Errorf("the host's bundle differs")
	}
	var host []string
	ents, _ := os.ReadDir(etc)
	for _, e := range ents {
		if target, err := os.Readlink(filepath.Join(etc, e.Name())); err == nil {
			host = append(host, "etc/ssl/certs/"+e.Name()+" -> "+strings.TrimPrefix(target, root))
		}
	}
	var oursLinks []string
	for _, l := range ours {
		if strings.Contains(l, " -> ") {
			oursLinks = append(oursLinks, l)
		}
	}
	sort.Strings(host)
	if diff := cmp.Diff(host, oursLinks); diff != "" {
		t.Errorf("links differ from the host's (-host +ours):\n%s", diff)
	}
}

func TestBuiltinDebconf(t *testing.T) {
	ca, _ := caFixture(t)
	debconf := debtest.Deb{Package: "debconf", Arch: "all"}
	tr, _ := mustAssemble(t, AssembleOptions{}, debconf, ca)
	// The template records as debconf 1.5 writes them (from mmdebstrap's
	// noble tree).
	if diff := cmp.Diff(testdata(t, "assemble-noble/ca-certificates.templates.dat"), readTree(t, tr, "var/cache/debconf/templates.dat")); diff != "" {
		t.Errorf("templates.dat (-want +got):\n%s", diff)
	}
	list := "mozilla/A_Root.crt, mozilla/B_Root.crt, mozilla/C_Dup.crt, mozilla/D_NoNewline.crt"
	want := "Name: ca-certificates/enable_crts\nTemplate: ca-certificates/enable_crts\nValue: " + list + "\nOwners: ca-certificates\nVariables:\n enable_crts = " + list + "\n\n" +
		"Name: ca-certificates/new_crts\nTemplate: ca-certificates/new_crts\nOwners: ca-certificates\nVariables:\n new_crts = \n\n" +
		"Name: ca-certificates/title\nTemplate: ca-certificates/title\nOwners: ca-certificates\n\n" +
		"Name: ca-certificates/trust_new_crts\nTemplate: ca-certificates/trust_new_crts\nValue: yes\nOwners: ca-certificates\n\n"
	if diff := cmp.Diff(want, readTree(t, tr, "var/cache/debconf/config.dat")); diff != "" {
		t.Errorf("config.dat (-want +got):\n%s", diff)
	}
	if i := lookup(t, tr, "var/cache/debconf/passwords.dat"); i.Mode != 0o600 || i.Size != 0 {
		t.Errorf("passwords.dat: %+v", i)
	}
	// Without debconf installed, no database.
	tr, _ = mustAssemble(t, AssembleOptions{}, ca)
	if _, err := tr.Lookup("var/cache/debconf/config.dat"); err == nil {
		t.Error("a debconf database without debconf")
	}
}

func FuzzParseTemplates(f *testing.F) {
	f.Add("Template: a/b\nType: boolean\nDefault: true\nDescription: Short\n Long text\n .\n  verbatim\n")
	f.Add("Template: x\n\n\nTemplate: y\nDescription-de.UTF-8: z\n")
	f.Fuzz(func(t *testing.T, s string) {
		for _, tmpl := range parseTemplates(s) {
			if tmpl["template"] == "" {
				t.Fatal("a template without a name")
			}
			var b strings.Builder
			write822(&b, tmpl["template"], tmpl, nil, nil, nil)
		}
	})
}
