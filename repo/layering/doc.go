// Package layering splits a root filesystem layer into several layers by
// owning package, so that images built on the same base share the blobs
// of their large, rarely changing packages (the C library, the C++
// runtime, OpenSSL, perl-base, Python, coreutils; musl, busybox and
// OpenSSL on Alpine).
//
// The single full layer stays the truth: the split reads its tar twice,
// once to learn which package owns each path (from the package database
// inside the tree, parsed by a Database the format package supplies) and
// once to write the group layers. Every path other than a directory goes
// into exactly one layer; every directory, with its real metadata, goes
// into the last layer, and the group layers carry only the parent
// directories of their files with fixed metadata (0755, root, mtime 0), so
// a group layer depends only on its package's files and the image
// flattened equals the full layer, without whiteouts. The package is
// distro-neutral: it knows no package format, only tar streams.
package layering
