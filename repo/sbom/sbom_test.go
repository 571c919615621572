package sbom

import (
	"bytes"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rootfsd/rootfsd/repo"
)

func TestSPDXStructure(t *testing.T) {
	for name, p := range map[string]*repo.Plan{"noble": noblePlan(), "alpine": alpinePlan(t)} {
		t.Run(name, func(t *testing.T) {
			data, err := SPDX(p, Options{Name: "localhost/test:1", Created: epoch, Tool: "rootfsd-test"})
			if err != nil {
				t.Fatal(err)
			}
			checkSPDX(t, data, len(p.Packages))
		})
	}
}

func TestCycloneDXStructure(t *testing.T) {
	for name, p := range map[string]*repo.Plan{"noble": noblePlan(), "alpine": alpinePlan(t)} {
		t.Run(name, func(t *testing.T) {
			data, err := CycloneDX(p, Options{Name: "localhost/test:1", Created: epoch, Tool: "rootfsd-test"})
			if err != nil {
				t.Fatal(err)
			}
			checkCycloneDX(t, data, len(p.Packages))
		})
	}
}

// TestGolden pins the exact output for the noble and Alpine plans.
func TestGolden(t *testing.T) {
	for name, p := range map[string]*repo.Plan{"noble": noblePlan(), "alpine-3.19": alpinePlan(t)} {
		for _, f := range Formats {
			data, err := Generate(f, p, Options{Name: name, Created: epoch, Tool: "rootfsd-test"})
			if err != nil {
				t.Fatal(err)
			}
			golden(t, name+f.Ext(), data)
		}
	}
}

// TestDeterministic checks that the package order of the plan does not
// matter and that the identifiers change with the content.
func TestDeterministic(t *testing.T) {
	opts := Options{Name: "img", Created: epoch}
	for _, f := range Formats {
		base, err := Generate(f, alpinePlan(t), opts)
		if err != nil {
			t.Fatal(err)
		}
		for seed := int64(1); seed <= 5; seed++ {
			p := alpinePlan(t)
			rand.New(rand.NewSource(seed)).Shuffle(len(p.Packages), func(i, j int) { p.Packages[i], p.Packages[j] = p.Packages[j], p.Packages[i] })
			got, err := Generate(f, p, opts)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(base, got) {
				t.Fatalf("%s: shuffled plan gives different bytes", f)
			}
		}
		later, err := Generate(f, alpinePlan(t), Options{Name: "img", Created: epoch.Add(time.Second)})
		if err != nil {
			t.Fatal(err)
		}
		if id(t, f, base) == id(t, f, later) {
			t.Errorf("%s: identifier did not change with the creation time", f)
		}
	}
}

func id(t *testing.T, f Format, data []byte) string {
	d := decode(t, data)
	if f == FormatSPDX {
		return str(d["documentNamespace"])
	}
	return str(d["serialNumber"])
}

// TestPackageFields checks the per-package values a reader relies on.
func TestPackageFields(t *testing.T) {
	data, err := SPDX(noblePlan(), Options{Created: epoch})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]map[string]any{}
	for _, pv := range list(decode(t, data)["packages"]) {
		p := obj(pv)
		got[str(p["name"])] = p
	}
	crypt := got["libcrypt1"]
	if str(crypt["versionInfo"]) != "1:4.4.36-4build1" || str(crypt["licenseDeclared"]) != "NOASSERTION" ||
		!strings.Contains(str(crypt["licenseComments"]), "custom") || !strings.Contains(str(crypt["sourceInfo"]), "libxcrypt 1:4.4.36-4build1") {
		t.Errorf("libcrypt1 = %v", crypt)
	}
	if str(got["debconf"]["licenseDeclared"]) != "BSD-2-Clause" || got["debconf"]["sourceInfo"] != nil {
		t.Errorf("debconf = %v", got["debconf"])
	}
	if str(got["libstdc++6"]["downloadLocation"]) != "NOASSERTION" {
		t.Errorf("download location recorded without DownloadLocations: %v", got["libstdc++6"]["downloadLocation"])
	}
	if str(got["debconf"]["supplier"]) != "Organization: Ubuntu" {
		t.Errorf("supplier = %v", got["debconf"]["supplier"])
	}
	with, err := SPDX(noblePlan(), Options{Created: epoch, DownloadLocations: true})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(with, []byte(`"downloadLocation": "http://127.0.0.1:3142/ubuntu/pool/main/g/gcc-14/libstdc++6_14-20240412-0ubuntu1_amd64.deb"`)) {
		t.Error("DownloadLocations: repository URL not recorded")
	}

	cdx, err := CycloneDX(alpinePlan(t), Options{Created: epoch})
	if err != nil {
		t.Fatal(err)
	}
	type hash struct{ Alg, Content string }
	for _, cv := range list(decode(t, cdx)["components"]) {
		c := obj(cv)
		if str(c["name"]) != "busybox" {
			continue
		}
		var hashes []hash
		for _, hv := range list(c["hashes"]) {
			hashes = append(hashes, hash{str(obj(hv)["alg"]), str(obj(hv)["content"])})
		}
		if diff := cmp.Diff([]hash{{"SHA-1", "4562cc647d7491dcf4cd49876f67658dd1612e54"}}, hashes); diff != "" {
			t.Errorf("busybox hashes (-want +got):\n%s", diff)
		}
		if str(c["purl"]) != "pkg:apk/alpine/busybox@1.36.1-r19?arch=x86_64" {
			t.Errorf("busybox purl = %v", c["purl"])
		}
		return
	}
	t.Error("busybox not in the Alpine BOM")
}

func TestErrors(t *testing.T) {
	bad := func(edit func(*repo.Plan)) *repo.Plan {
		p := noblePlan()
		edit(p)
		return p
	}
	tests := map[string]*repo.Plan{
		"nil":          nil,
		"empty":        {Family: repo.FamilyDeb, Distro: "debian:12"},
		"family":       bad(func(p *repo.Plan) { p.Family = "rpm" }),
		"no distro":    bad(func(p *repo.Plan) { p.Distro = "" }),
		"bad sha256":   bad(func(p *repo.Plan) { p.Packages[0].SHA256 = "abc" }),
		"bad checksum": bad(func(p *repo.Plan) { p.Packages[0].Checksum = "md5:abc" }),
		"duplicate":    bad(func(p *repo.Plan) { p.Packages = append(p.Packages, p.Packages[0]) }),
		"no version":   bad(func(p *repo.Plan) { p.Packages[1].Version = "" }),
	}
	for name, p := range tests {
		for _, f := range Formats {
			if _, err := Generate(f, p, Options{}); err == nil || !strings.HasPrefix(err.Error(), "sbom: ") {
				t.Errorf("%s/%s: error = %v", name, f, err)
			}
		}
	}
}
