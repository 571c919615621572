package sbom

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/rootfsd/rootfsd/repo"
)

// SPDX 2.3 JSON document, the fields rootfsd writes.
type spdxDocument struct {
	SPDXVersion       string             `json:"spdxVersion"`
	DataLicense       string             `json:"dataLicense"`
	SPDXID            string             `json:"SPDXID"`
	Name              string             `json:"name"`
	DocumentNamespace string             `json:"documentNamespace"`
	CreationInfo      spdxCreationInfo   `json:"creationInfo"`
	DocumentDescribes []string           `json:"documentDescribes"`
	Packages          []spdxPackage      `json:"packages"`
	Relationships     []spdxRelationship `json:"relationships"`
}

type spdxCreationInfo struct {
	Created            string   `json:"created"`
	Creators           []string `json:"creators"`
	LicenseListVersion string   `json:"licenseListVersion,omitempty"`
}

type spdxPackage struct {
	Name                  string            `json:"name"`
	SPDXID                string            `json:"SPDXID"`
	VersionInfo           string            `json:"versionInfo,omitempty"`
	PackageFileName       string            `json:"packageFileName,omitempty"`
	Supplier              string            `json:"supplier,omitempty"`
	DownloadLocation      string            `json:"downloadLocation"`
	FilesAnalyzed         bool              `json:"filesAnalyzed"`
	Checksums             []spdxChecksum    `json:"checksums,omitempty"`
	SourceInfo            string            `json:"sourceInfo,omitempty"`
	LicenseConcluded      string            `json:"licenseConcluded"`
	LicenseDeclared       string            `json:"licenseDeclared"`
	LicenseComments       string            `json:"licenseComments,omitempty"`
	CopyrightText         string            `json:"copyrightText"`
	ExternalRefs          []spdxExternalRef `json:"externalRefs,omitempty"`
	PrimaryPackagePurpose string            `json:"primaryPackagePurpose,omitempty"`
}

type spdxChecksum struct {
	Algorithm     string `json:"algorithm"`
	ChecksumValue string `json:"checksumValue"`
}

type spdxExternalRef struct {
	ReferenceCategory string `json:"referenceCategory"`
	ReferenceType     string `json:"referenceType"`
	ReferenceLocator  string `json:"referenceLocator"`
}

type spdxRelationship struct {
	SPDXElementID      string `json:"spdxElementId"`
	RelationshipType   string `json:"relationshipType"`
	RelatedSPDXElement string `json:"relatedSpdxElement"`
}

const (
	noAssertion  = "NOASSERTION"
	spdxDocID    = "SPDXRef-DOCUMENT"
	spdxRootID   = "SPDXRef-RootFS"
	spdxDistroID = "SPDXRef-OperatingSystem"
	// licenseListVersion is the SPDX License List spdx-ids.txt comes from.
	licenseListVersion = "3.28"
)

// SPDX returns the plan as an SPDX 2.3 JSON document. The document
// describes one package for the root filesystem (named opts.Name), which
// CONTAINS a package for the distribution and one per installed package;
// Depends edges of the plan become DEPENDS_ON relationships.
func SPDX(p *repo.Plan, opts Options) ([]byte, error) {
	ents, sub, err := entries(p, opts)
	if err != nil {
		return nil, err
	}
	doc := spdxDocument{
		SPDXVersion: "SPDX-2.3",
		DataLicense: "CC0-1.0",
		SPDXID:      spdxDocID,
		Name:        opts.name(),
		CreationInfo: spdxCreationInfo{
			Created:            timestamp(opts.Created),
			Creators:           []string{"Tool: " + opts.tool()},
			LicenseListVersion: licenseListVersion,
		},
		DocumentDescribes: []string{spdxRootID},
	}
	root := spdxPackage{
		Name: opts.name(), SPDXID: spdxRootID, VersionInfo: opts.Version,
		DownloadLocation: noAssertion, LicenseConcluded: noAssertion, LicenseDeclared: noAssertion,
		CopyrightText: noAssertion, PrimaryPackagePurpose: "CONTAINER",
	}
	distro := spdxPackage{
		Name: sub.id, SPDXID: spdxDistroID, VersionInfo: sub.version, Supplier: organization(sub.supplier),
		DownloadLocation: noAssertion, LicenseConcluded: noAssertion, LicenseDeclared: noAssertion,
		CopyrightText: noAssertion, PrimaryPackagePurpose: "OPERATING_SYSTEM",
	}
	if sub.codename != "" && sub.codename != sub.version {
		distro.SourceInfo = "release " + sub.codename
	}
	doc.Packages = append(doc.Packages, root, distro)
	rels := []spdxRelationship{
		{spdxDocID, "DESCRIBES", spdxRootID},
		{spdxRootID, "CONTAINS", spdxDistroID},
	}
	byName := map[string]string{}
	for _, e := range ents {
		byName[e.p.Name] = "SPDXRef-" + e.ref
	}
	for _, e := range ents {
		id := "SPDXRef-" + e.ref
		doc.Packages = append(doc.Packages, spdxPackageOf(e, sub))
		rels = append(rels, spdxRelationship{spdxRootID, "CONTAINS", id})
		for _, dep := range sortedUnique(e.p.Depends) {
			if to, ok := byName[dep]; ok && to != id {
				rels = append(rels, spdxRelationship{id, "DEPENDS_ON", to})
			}
		}
	}
	doc.Relationships = rels
	return encodeWithID(func(id string) { doc.DocumentNamespace = id }, &doc, func(uuid string) string {
		base := opts.NamespaceBase
		if base == "" {
			base = DefaultNamespaceBase
		}
		return strings.TrimSuffix(base, "/") + "/" + purlEscape(opts.name()) + "-" + uuid
	})
}

func spdxPackageOf(e entry, sub subject) spdxPackage {
	sp := spdxPackage{
		Name: e.p.Name, SPDXID: "SPDXRef-" + e.ref, VersionInfo: e.p.Version,
		Supplier: organization(sub.supplier), DownloadLocation: noAssertion,
		LicenseConcluded: noAssertion, LicenseDeclared: noAssertion, CopyrightText: noAssertion,
		ExternalRefs: []spdxExternalRef{{"PACKAGE-MANAGER", "purl", e.purl}},
	}
	if e.location != "" {
		sp.DownloadLocation = e.location
	}
	if i := strings.LastIndexByte(e.p.Filename, '/'); e.p.Filename != "" {
		sp.PackageFileName = e.p.Filename[i+1:]
	}
	if e.sha1 != "" {
		sp.Checksums = append(sp.Checksums, spdxChecksum{"SHA1", e.sha1})
	}
	if e.sha256 != "" {
		sp.Checksums = append(sp.Checksums, spdxChecksum{"SHA256", e.sha256})
	}
	if e.srcName != e.p.Name || e.srcVer != e.p.Version {
		sp.SourceInfo = fmt.Sprintf("built package from source package %s %s", e.srcName, e.srcVer)
	}
	switch {
	case e.licence != "":
		sp.LicenseDeclared = e.licence
	case e.rawLic != "":
		sp.LicenseComments = "licence as given by the package index, not a valid SPDX expression: " + e.rawLic
	}
	return sp
}

func organization(name string) string {
	if name == "" {
		return ""
	}
	return "Organization: " + name
}

func sortedUnique(names []string) []string {
	if len(names) == 0 {
		return nil
	}
	out := append([]string(nil), names...)
	sort.Strings(out)
	j := 0
	for i, n := range out {
		if i == 0 || n != out[j-1] {
			out[j] = n
			j++
		}
	}
	return out[:j]
}

// encodeWithID encodes v with its identifier left empty, derives a UUID
// from those bytes, sets the identifier with set and encodes v again: the
// identifier is a function of everything else in the document.
func encodeWithID(set func(string), v any, format func(uuid string) string) ([]byte, error) {
	set("")
	first, err := encodeJSON(v)
	if err != nil {
		return nil, err
	}
	set(format(nameUUID(first)))
	return encodeJSON(v)
}

func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("sbom: encode: %w", err)
	}
	return buf.Bytes(), nil
}
