package sbom

import (
	"regexp"
	"strings"
	"testing"
)

var (
	spdxIDPattern   = regexp.MustCompile(`^SPDXRef-[A-Za-z0-9.-]+$`)
	serialPattern   = regexp.MustCompile(`^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	timePattern     = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)
	checksumPattern = map[string]*regexp.Regexp{"SHA1": regexp.MustCompile(`^[0-9a-f]{40}$`), "SHA256": regexp.MustCompile(`^[0-9a-f]{64}$`)}
)

// checkSPDX checks what SPDX 2.3 requires of a document (clauses 6 and 7)
// and of the relationships (clause 11) beyond what its JSON schema says.
func checkSPDX(t *testing.T, data []byte, wantPackages int) {
	t.Helper()
	d := decode(t, data)
	for k, want := range map[string]string{"spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT"} {
		if str(d[k]) != want {
			t.Errorf("%s = %q, want %q", k, d[k], want)
		}
	}
	if str(d["name"]) == "" {
		t.Error("document has no name")
	}
	ns := str(d["documentNamespace"])
	if !strings.HasPrefix(ns, "https://") || strings.Contains(ns, "#") || strings.ContainsAny(ns, " \t") {
		t.Errorf("documentNamespace %q is not an absolute URI without '#'", ns)
	}
	ci := obj(d["creationInfo"])
	if !timePattern.MatchString(str(ci["created"])) {
		t.Errorf("creationInfo.created = %q", ci["created"])
	}
	creators := list(ci["creators"])
	if len(creators) == 0 || !strings.HasPrefix(str(creators[0]), "Tool: ") {
		t.Errorf("creators = %v", creators)
	}
	ids := map[string]bool{"SPDXRef-DOCUMENT": true}
	pkgs := list(d["packages"])
	if len(pkgs) != wantPackages+2 {
		t.Errorf("%d packages, want %d (+ root and distro)", len(pkgs), wantPackages)
	}
	purls := 0
	for _, pv := range pkgs {
		p := obj(pv)
		id := str(p["SPDXID"])
		if !spdxIDPattern.MatchString(id) || ids[id] {
			t.Errorf("package SPDXID %q invalid or repeated", id)
		}
		ids[id] = true
		for _, k := range []string{"name", "downloadLocation", "licenseConcluded", "licenseDeclared", "copyrightText"} {
			if str(p[k]) == "" {
				t.Errorf("package %s: no %s", id, k)
			}
		}
		if fa, ok := p["filesAnalyzed"].(bool); !ok || fa {
			t.Errorf("package %s: filesAnalyzed must be false (no files listed)", id)
		}
		for _, cv := range list(p["checksums"]) {
			c := obj(cv)
			re := checksumPattern[str(c["algorithm"])]
			if re == nil || !re.MatchString(str(c["checksumValue"])) {
				t.Errorf("package %s: checksum %v", id, c)
			}
		}
		for _, rv := range list(p["externalRefs"]) {
			r := obj(rv)
			if str(r["referenceCategory"]) != "PACKAGE-MANAGER" || str(r["referenceType"]) != "purl" || !strings.HasPrefix(str(r["referenceLocator"]), "pkg:") {
				t.Errorf("package %s: external ref %v", id, r)
			}
			purls++
		}
	}
	if purls != wantPackages {
		t.Errorf("%d purls, want %d", purls, wantPackages)
	}
	described := list(d["documentDescribes"])
	if len(described) != 1 || !ids[str(described[0])] {
		t.Errorf("documentDescribes = %v", described)
	}
	contains := 0
	for _, rv := range list(d["relationships"]) {
		r := obj(rv)
		from, to := str(r["spdxElementId"]), str(r["relatedSpdxElement"])
		if !ids[from] || !ids[to] {
			t.Errorf("relationship %v names an unknown element", r)
		}
		if str(r["relationshipType"]) == "CONTAINS" {
			contains++
		}
	}
	if contains != wantPackages+1 {
		t.Errorf("%d CONTAINS relationships, want %d", contains, wantPackages+1)
	}
}

// checkCycloneDX checks what CycloneDX 1.6 requires, and that every
// reference in dependencies names a component.
func checkCycloneDX(t *testing.T, data []byte, wantPackages int) {
	t.Helper()
	d := decode(t, data)
	if str(d["bomFormat"]) != "CycloneDX" || str(d["specVersion"]) != "1.6" {
		t.Errorf("bomFormat/specVersion = %v/%v", d["bomFormat"], d["specVersion"])
	}
	if !serialPattern.MatchString(str(d["serialNumber"])) {
		t.Errorf("serialNumber = %q", d["serialNumber"])
	}
	if v, _ := d["version"].(float64); v != 1 {
		t.Errorf("version = %v", d["version"])
	}
	md := obj(d["metadata"])
	if !timePattern.MatchString(str(md["timestamp"])) {
		t.Errorf("metadata.timestamp = %q", md["timestamp"])
	}
	refs := map[string]bool{}
	root := obj(md["component"])
	refs[str(root["bom-ref"])] = true
	comps := list(d["components"])
	if len(comps) != wantPackages+1 {
		t.Errorf("%d components, want %d + the distro", len(comps), wantPackages)
	}
	for _, cv := range comps {
		c := obj(cv)
		ref := str(c["bom-ref"])
		if ref == "" || refs[ref] {
			t.Errorf("bom-ref %q empty or repeated", ref)
		}
		refs[ref] = true
		if str(c["type"]) == "" || str(c["name"]) == "" {
			t.Errorf("component %s: no type or name", ref)
		}
		if str(c["type"]) == "library" && !strings.HasPrefix(str(c["purl"]), "pkg:") {
			t.Errorf("component %s: purl %q", ref, c["purl"])
		}
		for _, lv := range list(c["licenses"]) {
			l := obj(lv)
			if (l["license"] == nil) == (l["expression"] == nil) {
				t.Errorf("component %s: licence choice %v", ref, l)
			}
		}
	}
	for _, dv := range list(d["dependencies"]) {
		dep := obj(dv)
		if !refs[str(dep["ref"])] {
			t.Errorf("dependency ref %q names no component", dep["ref"])
		}
		for _, on := range list(dep["dependsOn"]) {
			if !refs[str(on)] {
				t.Errorf("dependsOn %q names no component", on)
			}
		}
	}
}
