// Package sbom writes software bills of materials for a resolved plan: SPDX
// 2.3 JSON (SPDX) and CycloneDX 1.6 JSON (CycloneDX). Every package of the
// plan becomes one entry with its name, version, architecture, a package URL
// (pkg:deb/<distro>/... or pkg:apk/alpine/...), its source package, its
// licence where the index gives a valid SPDX expression, and the checksums
// the build verified it with: the SHA256 of the package file, and for apk the
// SHA1 of the control stream from the index's C: field.
//
// Output is deterministic: packages and relationships are sorted, the only
// timestamp is the one the caller gives (SOURCE_DATE_EPOCH or the lock's
// date), and the SPDX document namespace and the CycloneDX serial number are
// name-based UUIDs derived from the document's own content, so the same plan
// and options always give the same bytes. The package knows no package
// format: it reads repo.Plan and the distro catalog only.
package sbom
