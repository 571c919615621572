package spec

// Spec is the content of a rootfs.yaml. Field order is the order of the
// documentation and of the template `rootfsd init` writes.
type Spec struct {
	// Distro is the release, as --distro takes it ("ubuntu:24.04").
	Distro string `yaml:"distro"`
	// Architectures to build, one image each (Debian spelling: amd64,
	// arm64). Empty: amd64.
	Architectures []string `yaml:"architectures,omitempty"`
	// Variant is base (the default), custom, essential, minbase or apt.
	Variant    string   `yaml:"variant,omitempty"`
	Components []string `yaml:"components,omitempty"`
	// Recommends installs Recommends, as apt does by default.
	Recommends bool `yaml:"recommends,omitempty"`
	// Sources are extra repositories, each with its key.
	Sources []Source `yaml:"sources,omitempty"`
	// Packages to install: "name", "name=version", "name/suite", or a map
	// {name, version, suite}.
	Packages []Package `yaml:"packages,omitempty"`
	// Trim is none, docs (the default) or minimal.
	Trim string `yaml:"trim,omitempty"`
	// Scripts runs real maintainer scripts in a sandbox where rootfsd has
	// no built-in equivalent.
	Scripts  bool     `yaml:"scripts,omitempty"`
	Accounts Accounts `yaml:"accounts,omitempty"`
	// Image configuration.
	Env         Env               `yaml:"env,omitempty"`
	Entrypoint  Command           `yaml:"entrypoint,omitempty"`
	Cmd         Command           `yaml:"cmd,omitempty"`
	Workdir     string            `yaml:"workdir,omitempty"`
	User        string            `yaml:"user,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
	// Paths are directories and symlinks to create, or modes and owners
	// to set on what packages installed.
	Paths []Path `yaml:"paths,omitempty"`
	// Files are local files to add.
	Files []File `yaml:"files,omitempty"`
	// Layering is "single" (one layer holding everything, the default) or
	// "groups" (a layer per base or large package, then the rest).
	Layering string `yaml:"layering,omitempty"`
	// Outputs are where the result goes, as --output takes them; "{arch}"
	// is replaced with each architecture.
	Outputs []string `yaml:"outputs,omitempty"`
	// Tag commits the image into containers-storage under this name.
	Tag string `yaml:"tag,omitempty"`
	// Check is what the end-of-build diagnostics do: warn (the default),
	// error (fail the build on errors), or off.
	Check string `yaml:"check,omitempty"`

	file  string
	lines map[string]int
}

// Source is an extra repository. Either Deb (a one-line sources entry),
// APK (an apk repositories line), or the fields.
type Source struct {
	Deb        string   `yaml:"deb,omitempty"`
	APK        string   `yaml:"apk,omitempty"`
	URL        string   `yaml:"url,omitempty"`
	Suite      string   `yaml:"suite,omitempty"`
	Components []string `yaml:"components,omitempty"`
	// Key is the repository's public key: a path relative to the spec
	// file, or an armored key inline.
	Key    string   `yaml:"key,omitempty"`
	Arches []string `yaml:"arches,omitempty"`
	// Tag pins an apk repository: its packages are used only when asked
	// for as name@tag.
	Tag string `yaml:"tag,omitempty"`
}

// Package is one requested package.
type Package struct {
	Name    string `yaml:"name"`
	Version string `yaml:"version,omitempty"`
	Suite   string `yaml:"suite,omitempty"`
}

// Accounts are users and groups to create.
type Accounts struct {
	Users  []User  `yaml:"users,omitempty"`
	Groups []Group `yaml:"groups,omitempty"`
}

// User is an account. Only Name is required: the uid is picked from 1000,
// the primary group is a group of the same name, the home /home/NAME.
type User struct {
	Name   string   `yaml:"name"`
	UID    *int     `yaml:"uid,omitempty"`
	Group  string   `yaml:"group,omitempty"`
	Groups []string `yaml:"groups,omitempty"`
	Home   string   `yaml:"home,omitempty"`
	Shell  string   `yaml:"shell,omitempty"`
}

// Group is a group.
type Group struct {
	Name string `yaml:"name"`
	GID  *int   `yaml:"gid,omitempty"`
}

// Path is a directory or symlink to create, or a path whose mode or owner
// to set.
type Path struct {
	Path string `yaml:"path"`
	// Type is directory, symlink, or empty to change an existing path.
	Type string `yaml:"type,omitempty"`
	Mode Mode   `yaml:"mode,omitempty"`
	// Owner is "USER[:GROUP]", names or numbers.
	Owner  string `yaml:"owner,omitempty"`
	Target string `yaml:"target,omitempty"`
}

// File is a local file to add.
type File struct {
	// Src is a path relative to the spec file.
	Src   string `yaml:"src"`
	Dest  string `yaml:"dest"`
	Mode  Mode   `yaml:"mode,omitempty"`
	Owner string `yaml:"owner,omitempty"`
}

// Mode is a permission mode, always written in octal ("0755", 755).
type Mode struct {
	Value uint32
	Set   bool
}

// Env is the image environment: a map, or a list of KEY=VALUE.
type Env []string

// Command is an argv: a list, or a string split at spaces.
type Command []string
