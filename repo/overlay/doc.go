// Package overlay is what a build adds to a root filesystem after its
// packages: groups and accounts with their homes, shells and supplementary
// groups; directories and symlinks to create, and modes and owners to set;
// and files from the user's machine (a static binary, a configuration
// file). A spec file's accounts, paths and files sections become an
// Overlay, and so does `rootfsd build --add SRC:DEST[:MODE]`.
//
// An Overlay is plain data: files travel inline, so that it can go to the
// daemon with the build request and its Digest can key the layer cache.
// Apply edits an fstree.Tree the way useradd, groupadd, install and ln
// would, in that order, and refuses what would silently clobber the tree:
// an account that exists, an id that is taken, an owner nobody knows.
package overlay
