// Package attacks holds rootfsd's supply-chain attack suite and the
// hostile-archive cases that the format packages' own tests do not cover.
// It has no code of its own: everything is in its tests, which build tiny
// signed Debian and Alpine repositories in memory, serve them on 127.0.0.1
// through a tampering proxy, and run the real backends (deb, apk), the
// store and the unpackers against each attack, expecting a precise error.
//
// The threat model the cases come from is SECURITY.md at the repository
// root; "go test -v -run 'Attack|Hostile' ./repo/attacks/" prints one line
// per case and the closing table (case, defence, error seen). The suite
// needs no network and runs in seconds.
package attacks
