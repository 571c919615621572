package sbom

import (
	"strings"

	"github.com/rootfsd/rootfsd/repo"
)

// CycloneDX 1.6 JSON BOM, the fields rootfsd writes.
type cdxBOM struct {
	Schema       string          `json:"$schema"`
	BOMFormat    string          `json:"bomFormat"`
	SpecVersion  string          `json:"specVersion"`
	SerialNumber string          `json:"serialNumber"`
	Version      int             `json:"version"`
	Metadata     cdxMetadata     `json:"metadata"`
	Components   []cdxComponent  `json:"components"`
	Dependencies []cdxDependency `json:"dependencies"`
}

type cdxMetadata struct {
	Timestamp string       `json:"timestamp"`
	Tools     cdxTools     `json:"tools"`
	Component cdxComponent `json:"component"`
}

type cdxTools struct {
	Components []cdxComponent `json:"components"`
}

type cdxComponent struct {
	BOMRef             string           `json:"bom-ref,omitempty"`
	Type               string           `json:"type"`
	Supplier           *cdxEntity       `json:"supplier,omitempty"`
	Name               string           `json:"name"`
	Version            string           `json:"version,omitempty"`
	Description        string           `json:"description,omitempty"`
	Hashes             []cdxHash        `json:"hashes,omitempty"`
	Licenses           []cdxLicense     `json:"licenses,omitempty"`
	PURL               string           `json:"purl,omitempty"`
	ExternalReferences []cdxExternalRef `json:"externalReferences,omitempty"`
	Properties         []cdxProperty    `json:"properties,omitempty"`
}

type cdxEntity struct {
	Name string `json:"name"`
}

type cdxHash struct {
	Alg     string `json:"alg"`
	Content string `json:"content"`
}

// cdxLicense is one licence choice: a listed id, a name, or an expression.
type cdxLicense struct {
	License    *cdxLicenseID `json:"license,omitempty"`
	Expression string        `json:"expression,omitempty"`
}

type cdxLicenseID struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
}

type cdxExternalRef struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

type cdxProperty struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type cdxDependency struct {
	Ref       string   `json:"ref"`
	DependsOn []string `json:"dependsOn,omitempty"`
}

const (
	cdxRootRef   = "rootfs"
	cdxDistroRef = "operating-system"
)

// CycloneDX returns the plan as a CycloneDX 1.6 JSON BOM. metadata.component
// is the root filesystem (a container); components are the distribution
// (an operating-system component) and one library component per installed
// package, with rootfsd:* properties for architecture, source package and
// the reason the package was installed.
func CycloneDX(p *repo.Plan, opts Options) ([]byte, error) {
	ents, sub, err := entries(p, opts)
	if err != nil {
		return nil, err
	}
	bom := cdxBOM{
		Schema:      "http://cyclonedx.org/schema/bom-1.6.schema.json",
		BOMFormat:   "CycloneDX",
		SpecVersion: "1.6",
		Version:     1,
		Metadata: cdxMetadata{
			Timestamp: timestamp(opts.Created),
			Tools:     cdxTools{Components: []cdxComponent{{Type: "application", Name: opts.tool()}}},
			Component: cdxComponent{BOMRef: cdxRootRef, Type: "container", Name: opts.name(), Version: opts.Version},
		},
	}
	distro := cdxComponent{BOMRef: cdxDistroRef, Type: "operating-system", Name: sub.id, Version: sub.version}
	if sub.supplier != "" {
		distro.Supplier = &cdxEntity{Name: sub.supplier}
	}
	if sub.codename != "" && sub.codename != sub.version {
		distro.Description = "release " + sub.codename
	}
	bom.Components = append(bom.Components, distro)
	rootDeps := []string{cdxDistroRef}
	byName := map[string]string{}
	for _, e := range ents {
		byName[e.p.Name] = e.ref
	}
	deps := make([]cdxDependency, 0, len(ents)+2)
	for _, e := range ents {
		bom.Components = append(bom.Components, cdxComponentOf(e, sub))
		rootDeps = append(rootDeps, e.ref)
		d := cdxDependency{Ref: e.ref}
		for _, dep := range sortedUnique(e.p.Depends) {
			if to, ok := byName[dep]; ok && to != e.ref {
				d.DependsOn = append(d.DependsOn, to)
			}
		}
		deps = append(deps, d)
	}
	bom.Dependencies = append([]cdxDependency{{Ref: cdxRootRef, DependsOn: rootDeps}, {Ref: cdxDistroRef}}, deps...)
	return encodeWithID(func(id string) { bom.SerialNumber = id }, &bom, func(uuid string) string {
		return "urn:uuid:" + uuid
	})
}

func cdxComponentOf(e entry, sub subject) cdxComponent {
	c := cdxComponent{BOMRef: e.ref, Type: "library", Name: e.p.Name, Version: e.p.Version, PURL: e.purl}
	if sub.supplier != "" {
		c.Supplier = &cdxEntity{Name: sub.supplier}
	}
	if e.sha1 != "" {
		c.Hashes = append(c.Hashes, cdxHash{"SHA-1", e.sha1})
	}
	if e.sha256 != "" {
		c.Hashes = append(c.Hashes, cdxHash{"SHA-256", e.sha256})
	}
	switch {
	case e.licence != "" && !strings.ContainsAny(e.licence, " +"):
		c.Licenses = []cdxLicense{{License: &cdxLicenseID{ID: e.licence}}}
	case e.licence != "":
		c.Licenses = []cdxLicense{{Expression: e.licence}}
	case e.rawLic != "":
		c.Licenses = []cdxLicense{{License: &cdxLicenseID{Name: e.rawLic}}}
	}
	if e.location != "" {
		c.ExternalReferences = []cdxExternalRef{{"distribution", e.location}}
	}
	props := []cdxProperty{{"rootfsd:package:arch", e.p.Arch}}
	if e.srcName != e.p.Name || e.srcVer != e.p.Version {
		props = append(props, cdxProperty{"rootfsd:package:source", e.srcName}, cdxProperty{"rootfsd:package:source-version", e.srcVer})
	}
	if e.p.Filename != "" {
		props = append(props, cdxProperty{"rootfsd:package:filename", e.p.Filename})
	}
	if e.p.Reason != "" {
		props = append(props, cdxProperty{"rootfsd:package:reason", clipText(e.p.Reason, 512)})
	}
	c.Properties = props
	return c
}
