// Package image turns rootfsd's layer tars into container images and
// writes them out as an OCI image layout (oci:DIR), a tar of one
// (oci-archive:FILE) or a docker save archive (docker-archive:FILE). It
// works straight from the uncompressed layer files with the standard
// library and a gzip encoder: no daemon, no user namespace, no subordinate
// ids and no root are needed, and nothing is ever unpacked, so ownership,
// modes and setuid bits reach the image exactly as the layer tar has them.
//
// New builds the image config (with the layers' diffIDs, history, Env,
// Cmd, labels, platform and a creation time the caller pins to
// SOURCE_DATE_EPOCH), and the manifest for the chosen layer compression.
// Gzip blobs are produced deterministically (no name, no mtime, fixed
// level), optionally kept in a repo.Cache keyed by diffID so that later
// builds reuse them, and every blob is hashed again as it is exported, so a
// corrupted cache or layer file fails the export instead of producing a bad
// image. The same layers and config give the same manifest digest on every
// run. Pushing to a registry and committing to containers-storage live in
// the publish subpackage, which adds the containers/image machinery on top
// of the layout written here.
package image
