// Package debtest builds tiny signed Debian-style repositories for tests:
// OpenPGP keys (RSA and Ed25519, with signing subkeys), Packages indexes in
// every compression, Release files with their SHA256 lists, clearsigned
// InRelease and detached Release.gpg signatures, by-hash copies, and an
// httptest server that serves them with ETags and counts requests.
//
// It also holds Cache, a small directory-backed repo.Cache that verifies
// what it stores the way the real store does, so that deb's tests do not
// depend on the store package. Nothing here is used outside tests.
package debtest
