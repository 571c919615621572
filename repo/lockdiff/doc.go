// Package lockdiff compares two builds: the package sets of two locks
// (what was added, removed, upgraded or downgraded, and which request
// fields and indexes moved), and the files of two root filesystems (what
// was added, removed or changed in content, mode, ownership or link
// target). `rootfsd diff A B` prints both; a lock review in a pull request
// reads the package part.
//
// It is distro-neutral: versions are compared with a function the caller
// passes (dpkg's or apk's ordering), and trees are read through
// fs.ReadLinkFS, so a directory, a rootfs tar and an unpacked image compare
// the same way. Results are sorted and deterministic.
package lockdiff
