// Package repo is rootfsd's distro-neutral core: the model of a build
// request, the resolved plan and its lockfile, the distro catalog, mirror
// configuration and verified fetching over HTTP.
//
// Format packages (deb, apk) implement Backend for one package format; they
// depend on repo, never on each other. Nothing in repo knows how a .deb or an
// .apk is laid out: it deals in names, versions, pool paths, sizes and
// digests, and in the reasons why each package is part of a plan.
package repo
