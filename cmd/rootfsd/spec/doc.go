// Package spec reads rootfs.yaml, the declarative description of a build:
// the release and architectures, extra sources with their keys, packages
// with pins, variant and trim profile, accounts, image configuration
// (environment, entrypoint, command, working directory, user, labels,
// annotations), paths to create, local files to add, layering and
// outputs. `rootfsd build -f` and `rootfsd lock -f` take it; flags
// override what it says. The schema is documented in docs/spec.md and
// published as JSON Schema in docs/spec.schema.json.
//
// Parsing is strict and points at the line: an unknown key is an error
// naming the file, the line and the closest valid key ("rootfs.yaml:7:
// unknown key \"pakages\"; did you mean \"packages\"?"), and so is every
// value that does not validate. A spec converts to the repo.Request a lock
// is made from, to the engine.BuildRequest a build runs, and to an
// overlay.Overlay for what packages alone cannot express (files, paths,
// groups, accounts with homes and shells).
package spec
