// Package config is rootfsd's configuration: TOML files layered from the
// vendor's defaults to the user's, then environment variables, then
// command-line flags, each value remembering where it came from so that
// `rootfsd config` can say why rootfsd uses the mirror it uses.
//
// The layers, lowest first: built-in defaults; /usr/share/rootfsd/config.toml
// (what a distribution package ships); /etc/rootfsd/config.toml (the
// machine's administrator); $XDG_CONFIG_HOME/rootfsd/config.toml, or
// ~/.config/rootfsd/config.toml (the user); the file named by
// ROOTFSD_CONFIG; ROOTFSD_* environment variables; flags. Unknown keys and
// values of the wrong type are errors naming the file, the line and the
// closest valid key: a typo in a mirror URL's key must not silently fall
// back to host discovery.
package config
