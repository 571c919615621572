package deb

// Op is a version relation operator as written in a control file.
type Op uint8

const (
	OpAny Op = iota // no version constraint
	OpLT            // <<
	OpLE            // <= (also the obsolete <)
	OpEQ            // =
	OpGE            // >= (also the obsolete >)
	OpGT            // >>
)

// Dep is one alternative of a relation: "libc6:any (>= 2.38)".
type Dep struct {
	Name string
	// ArchQual is the architecture qualifier after ':' ("any", "native",
	// an architecture name), empty when absent.
	ArchQual string
	Op       Op
	Version  string
	// Arches are the [arch ...] restrictions of build relations; entries
	// starting with '!' negate. Empty in binary package relations.
	Arches []string
	// Profiles are the build-profile restriction lists "<!nocheck> <cross>"
	// of build relations, one inner slice per <...> list; entries starting
	// with '!' negate. Empty in binary package relations.
	Profiles [][]string
}

// OrGroup is a list of alternatives, "a | b (>= 1)": any one satisfies it.
type OrGroup []Dep

// Provide is one Provides entry: a name, optionally with "(= version)".
type Provide struct {
	Name    string
	Version string // empty for an unversioned (virtual) provide
}

// Package is one stanza of a Packages index, reduced to what resolution,
// fetching and the dpkg database need.
type Package struct {
	Name          string
	Version       string
	Arch          string // "amd64", "all", ...
	MultiArch     string // "", "same", "foreign", "allowed"
	Essential     bool
	Protected     bool // "Protected: yes" (apt's Important flag)
	Priority      string
	Section       string
	Source        string // source package name; Name when the field is absent
	SourceVersion string // from "Source: name (version)"; Version when absent
	Depends       []OrGroup
	PreDepends    []OrGroup
	Recommends    []OrGroup
	Conflicts     []Dep
	Breaks        []Dep
	Provides      []Provide
	Filename      string // pool path relative to the mirror root
	Size          int64
	SHA256        string
	InstalledSize int64 // KiB, as in the index

	// Raw is the paragraph as it appears in the index (no trailing blank
	// line), kept for writing var/lib/dpkg/status. It may alias the index
	// buffer: do not modify it.
	Raw []byte
}
