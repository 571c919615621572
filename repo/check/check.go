package check

import (
	"context"
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

// Kind names a class of finding; callers and tests branch on it.
type Kind string

const (
	// MissingInterpreter: an ELF file's PT_INTERP (the dynamic loader) is
	// not in the tree; the kernel refuses to run it ("no such file").
	MissingInterpreter Kind = "missing-interpreter"
	// MissingLibrary: a DT_NEEDED library is not found where the loader
	// looks for it.
	MissingLibrary Kind = "missing-library"
	// NoCABundle: TLS libraries or a Go TLS client are present but no CA
	// bundle is, so every certificate check fails.
	NoCABundle Kind = "no-ca-bundle"
	// MissingEntrypoint: the image's entrypoint (or command) does not exist.
	MissingEntrypoint Kind = "missing-entrypoint"
	// NotExecutable: the entrypoint exists but is not an executable file.
	NotExecutable Kind = "not-executable"
	// UnknownUser: the image's User names an account /etc/passwd lacks.
	UnknownUser Kind = "unknown-user"
	// UnknownGroup: the image's User names a group /etc/group lacks.
	UnknownGroup Kind = "unknown-group"
	// MissingTmp: /tmp is missing or not writable by everyone.
	MissingTmp Kind = "missing-tmp"
	// MissingTimezone: something expects timezone data that is not there.
	MissingTimezone Kind = "missing-timezone"
	// MissingScriptInterpreter: the entrypoint is a script whose #! line
	// names a program that is not there.
	MissingScriptInterpreter Kind = "missing-script-interpreter"
)

// Severity tells how sure a finding is to break the image.
type Severity string

const (
	// Error: running the affected program fails.
	Error Severity = "error"
	// Warning: some operations of the affected program fail.
	Warning Severity = "warning"
)

// Finding is one problem. Findings for the same missing thing are merged:
// Paths lists every file affected.
type Finding struct {
	Kind     Kind     `json:"kind"`
	Severity Severity `json:"severity"`
	// Missing is what is absent: a soname, a path, a user name.
	Missing string `json:"missing"`
	// Paths are the files that need it (absolute, sorted); Owners the
	// packages that shipped them, where the tree's package database says.
	Paths  []string `json:"paths,omitempty"`
	Owners []string `json:"owners,omitempty"`
	// Fix names the packages that would supply what is missing, best
	// first; Guessed tells that they come from naming rules, not an index.
	Fix     []string `json:"fix,omitempty"`
	Guessed bool     `json:"guessed,omitempty"`
	// Hint says what to do when no package fixes it.
	Hint string `json:"hint,omitempty"`
	// Message is the whole finding as one sentence.
	Message string `json:"message"`
}

// ImageConfig is the part of an image's configuration check looks at.
type ImageConfig struct {
	Entrypoint []string `json:"Entrypoint,omitempty"`
	Cmd        []string `json:"Cmd,omitempty"`
	Env        []string `json:"Env,omitempty"`
	User       string   `json:"User,omitempty"`
	WorkingDir string   `json:"WorkingDir,omitempty"`
}

// Options configure Run. The zero value checks the tree alone, with
// package names guessed from the distribution found in /etc/os-release.
type Options struct {
	// Config is the image configuration, when there is one.
	Config *ImageConfig
	// Lookup names the packages that supply a need. Nil, or an empty
	// answer, falls back to Candidates.
	Lookup Lookup
	// Family is "deb" or "apk"; empty: detected from the tree.
	Family string
}

// Run checks the tree and returns its findings, errors first, then by kind
// and what is missing. An error means the tree could not be read.
func Run(ctx context.Context, fsys fs.ReadLinkFS, opts Options) ([]Finding, error) {
	c := &checker{ctx: ctx, fsys: fsys, opts: opts, merged: map[string]*Finding{}}
	if c.opts.Family == "" {
		c.opts.Family = detectFamily(fsys)
	}
	c.db = readPackageDB(ctx, fsys)
	if err := c.scanFiles(); err != nil {
		return nil, err
	}
	c.checkTLS()
	c.checkTmp()
	c.checkTimezone()
	if opts.Config != nil {
		c.checkEntrypoint(opts.Config)
		c.checkUser(opts.Config)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return c.finish(), nil
}

type checker struct {
	ctx    context.Context
	fsys   fs.ReadLinkFS
	opts   Options
	db     *packageDB
	merged map[string]*Finding
	order  []string
	// scan results used by the later checks
	tlsUsers []string // files that speak TLS
	tzUsers  []string // files that load timezones
	elfCount int
}

// add records a finding, merging it with an earlier one for the same
// kind and missing thing.
func (c *checker) add(f Finding, path string) {
	key := string(f.Kind) + "\x00" + f.Missing
	m, ok := c.merged[key]
	if !ok {
		m = &f
		c.merged[key] = m
		c.order = append(c.order, key)
	}
	if path != "" {
		m.Paths = append(m.Paths, abs(path))
		if o := c.db.owners[strings.TrimPrefix(path, "/")]; o != "" {
			m.Owners = append(m.Owners, o)
		}
	}
}

// finish sorts, deduplicates, names fixing packages and writes messages.
func (c *checker) finish() []Finding {
	out := make([]Finding, 0, len(c.order))
	for _, k := range c.order {
		f := *c.merged[k]
		f.Paths = uniq(f.Paths)
		f.Owners = uniq(f.Owners)
		if len(f.Fix) == 0 {
			f.Fix, f.Guessed = c.fixFor(f)
		}
		f.Message = message(f)
		out = append(out, f)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Severity != b.Severity {
			return a.Severity == Error
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.Missing < b.Missing
	})
	return out
}

// fixFor asks the Lookup, then the naming rules.
func (c *checker) fixFor(f Finding) ([]string, bool) {
	need, ok := needOf(f)
	if !ok {
		return nil, false
	}
	if c.opts.Lookup != nil {
		if pkgs := c.opts.Lookup(c.ctx, need); len(pkgs) > 0 {
			return pkgs, false
		}
	}
	if pkgs := Candidates(c.opts.Family, need); len(pkgs) > 0 {
		// The files every image needs come from a table, not a guess.
		return pkgs, need.Kind != NeedFile
	}
	return nil, false
}

func message(f Finding) string {
	var b strings.Builder
	switch f.Kind {
	case MissingLibrary:
		fmt.Fprintf(&b, "%s, needed by %s, is not in the rootfs", f.Missing, who(f))
	case MissingInterpreter:
		fmt.Fprintf(&b, "the dynamic loader %s of %s is not in the rootfs: the kernel will refuse to run them", f.Missing, who(f))
	case NoCABundle:
		fmt.Fprintf(&b, "%s speak TLS but there is no CA bundle (%s): every certificate check will fail", who(f), f.Missing)
	case MissingEntrypoint:
		fmt.Fprintf(&b, "the entrypoint %s does not exist in the rootfs", f.Missing)
	case NotExecutable:
		fmt.Fprintf(&b, "the entrypoint %s is not an executable file", f.Missing)
	case UnknownUser:
		fmt.Fprintf(&b, "the image user %q has no entry in /etc/passwd", f.Missing)
	case UnknownGroup:
		fmt.Fprintf(&b, "the image group %q has no entry in /etc/group", f.Missing)
	case MissingScriptInterpreter:
		fmt.Fprintf(&b, "the interpreter %s named by the #! line of %s does not exist in the rootfs", f.Missing, who(f))
	case MissingTmp:
		fmt.Fprintf(&b, "%s", f.Missing)
	case MissingTimezone:
		fmt.Fprintf(&b, "%s: needed by %s", f.Missing, who(f))
	default:
		fmt.Fprintf(&b, "%s: %s", f.Kind, f.Missing)
	}
	switch {
	case len(f.Fix) > 0 && f.Guessed:
		fmt.Fprintf(&b, "; install the package that ships it (probably %s)", strings.Join(f.Fix, " or "))
	case len(f.Fix) > 0:
		fmt.Fprintf(&b, "; install %s", strings.Join(f.Fix, " or "))
	}
	if f.Hint != "" {
		if len(f.Fix) > 0 {
			b.WriteString(", or " + f.Hint)
		} else {
			b.WriteString("; " + f.Hint)
		}
	}
	return b.String()
}

// who names the affected files: up to three, with their packages.
func who(f Finding) string {
	if len(f.Paths) == 0 {
		if len(f.Owners) > 0 {
			return "the packages " + strings.Join(f.Owners, ", ")
		}
		return "the image"
	}
	var names []string
	for i, p := range f.Paths {
		if i == 3 {
			names = append(names, fmt.Sprintf("%d more", len(f.Paths)-3))
			break
		}
		names = append(names, p)
	}
	s := strings.Join(names, ", ")
	if len(f.Owners) > 0 {
		s += " (from " + strings.Join(f.Owners, ", ") + ")"
	}
	return s
}

func uniq(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	sort.Strings(s)
	out := s[:1]
	for _, x := range s[1:] {
		if x != out[len(out)-1] {
			out = append(out, x)
		}
	}
	return out
}
