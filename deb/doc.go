// Package deb is rootfsd's support for Debian and Ubuntu: the deb822
// control format, dpkg's version syntax and ordering, package relations
// (Depends, Conflicts, Provides, ...), signed archive indexes (InRelease,
// Release, Packages), resolution of a request into the exact package set
// apt would install, and unpacking .deb files with the effects of their
// maintainer scripts.
//
// Parsers follow dpkg's rules and fail closed: apart from the obsolete
// relation operators '<' and '>', what dpkg only warns about is an error
// here, because everything parsed comes from the network.
// Index parsing is on the hot path of every build, so it works on the
// index buffer in place: Paragraph fields and Package.Raw alias it, and
// CompareVersions compares version strings without allocating. deb
// implements repo's interfaces for the deb family and never imports apk.
package deb
