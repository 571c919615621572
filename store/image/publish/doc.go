// Package publish sends images built by package image where other tools
// look for them: to a registry (Push, docker://REF) and into the local
// containers-storage that podman, buildah and skopeo share (Commit). Both
// go through containers/image's copy from a temporary OCI layout, so the
// digests rootfsd computed are kept: Push preserves the manifest digest
// exactly, and Commit stores the layers as they are (no re-chown, setuid
// bits and owners intact) under an image ID equal to the config digest,
// with the manifest as written.
//
// containers-storage needs privileges to lay files out with the owners the
// image says. As root that is a given. An unprivileged user must run in a
// user namespace that maps the subordinate ids of /etc/subuid and
// /etc/subgid through newuidmap/newgidmap, as podman and buildah do:
// ReexecInUserNamespace re-executes the program there and must be called
// at the start of main (with InitReexec before it); it first makes sure
// the process may create a user namespace at all (a seccomp profile or a
// sysctl can forbid it: ErrNoUserNamespace), and CheckRootless explains
// what else is missing when that cannot work. The location, driver
// and options of the storage come from containers' own storage.conf files
// and defaults, so the image appears in `podman images`; where those leave
// the driver of a fresh rootless store open, RootlessDriver asks podman
// (tools on different versions of containers-storage choose differently).
// Building this
// package needs the build tags containers_image_openpgp and
// exclude_graphdriver_btrfs (see the Makefile).
package publish
