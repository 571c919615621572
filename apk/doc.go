// Package apk implements rootfsd's Alpine backend: signed APKINDEX
// repositories, apk-tools' version ordering and dependency resolution,
// verification and unpacking of .apk (v2) package files, and the
// installed-package database (lib/apk/db) that apk itself would write.
//
// Data flows as in apk-tools: ReadIndex verifies an index's RSA signature
// against a Keyring before parsing it; a Resolver chooses packages over one
// or more indexes in repository order (with @tag pinning, provides,
// install_if and conflicts) and yields a repo.Plan; ReadPackage streams an
// .apk, checking its signature, its control checksum against the index's
// C: field, its data hash against .PKGINFO and every file's embedded SHA-1,
// and hands each installable entry to the caller. An Installer unpacks
// packages into a repo/fstree tree with apk's file-ownership rules, runs
// built-in equivalents of the base packages' maintainer scripts (busybox's
// applet links, alpine-baselayout's shadow file) and writes lib/apk/db and
// etc/apk as apk-tools 2 does. Assemble does all of that for a plan or a
// lock; Backend implements repo.Backend and repo.PackageFetcher, fetching
// through a repo.Cache.
package apk
