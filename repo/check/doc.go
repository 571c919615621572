// Package check finds what makes a minimal root filesystem fail at run
// time although it was built without error: ELF files whose interpreter or
// DT_NEEDED libraries do not resolve inside the tree, TLS libraries without
// a CA bundle, an entrypoint that does not exist or is not executable, an
// image User without a passwd entry, and a missing /tmp or missing timezone
// data where something expects them. `rootfsd check` runs it on a
// directory, a rootfs tar or an image, and every build runs it at the end
// and prints its findings as warnings.
//
// Check reads the tree through an fs.ReadLinkFS and resolves every path
// itself, the way the kernel and the dynamic loader would inside a chroot:
// absolute symlink targets restart at the tree's root, so a link such as
// /lib64 -> /usr/lib64 never reaches the host's files. It knows no package
// format; which package would fix a finding is answered by a Lookup the
// caller supplies (the format backends can answer from their indexes), and
// Candidates gives the names a distribution's naming policy predicts when
// no index is at hand.
package check
