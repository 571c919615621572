// Package remote is a build cache kept in an OCI registry, so that CI
// runners with empty caches share package files and built layers.
//
// Every entry is a small OCI manifest whose one layer is the cached blob,
// tagged with its key: a layer is tagged with the engine's layer key (the
// SHA256 of the lock digest, trim profile and layer-format version), a
// package file with "pkg-" and the SHA256 its signed index or lock names.
// The registry is untrusted: manifests are checked against their digests,
// blob sizes are bounded, and callers put every pulled blob into the store
// with the digest they expect, so a changed blob is refused. The package
// knows no distribution; it speaks to registries through oras-go.
package remote
