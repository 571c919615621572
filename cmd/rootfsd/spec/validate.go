package spec

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/rootfsd/rootfsd/repo"
)

var (
	accountName = regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,31}$`)
	archName    = regexp.MustCompile(`^[a-z0-9_]+$`)
)

// outputKinds are what --output takes; the engine checks them again.
var outputKinds = []string{"tar", "dir", "oci", "oci-archive", "docker-archive", "docker"}

// at names the place of a value: "FILE:LINE".
func (s *Spec) at(p string) string {
	if n, ok := s.lines[p]; ok {
		return fmt.Sprintf("%s:%d", s.file, n)
	}
	return s.file
}

func (s *Spec) errorf(p, format string, args ...any) error {
	return fmt.Errorf("%s: %s: %s", s.at(p), p, fmt.Sprintf(format, args...))
}

// Dir is the directory relative paths in the spec are resolved against.
func (s *Spec) Dir() string { return filepath.Dir(s.file) }

// File is the spec's path.
func (s *Spec) File() string { return s.file }

func (s *Spec) rel(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(s.Dir(), p)
}

func (s *Spec) validate() error {
	if s.Distro == "" {
		return fmt.Errorf("%s: distro is required, e.g. \"distro: ubuntu:24.04\"", s.file)
	}
	d, err := repo.LookupDistro(s.Distro)
	if err != nil {
		return s.errorf("distro", "%v%s", err, suggestion(s.Distro, distroNames()))
	}
	seen := map[string]bool{}
	for i, a := range s.Architectures {
		if !archName.MatchString(a) || seen[a] {
			return s.errorf(fmt.Sprintf("architectures[%d]", i), "%q: architectures are distinct names such as amd64 or arm64", a)
		}
		seen[a] = true
	}
	if _, err := repo.ParseVariant(s.Variant); err != nil {
		return s.errorf("variant", "%v%s", err, suggestion(s.Variant, variantNames()))
	}
	if v, _ := repo.ParseVariant(s.Variant); v == repo.VariantCustom && len(s.Packages) == 0 {
		return s.errorf("variant", "variant custom installs exactly the closure of packages: list some under packages")
	}
	switch s.Trim {
	case "", "none", "docs", "minimal":
	default:
		return s.errorf("trim", "%q: use none, docs or minimal%s", s.Trim, suggestion(s.Trim, []string{"none", "docs", "minimal"}))
	}
	switch s.Layering {
	case "", "single", "groups":
	default:
		return s.errorf("layering", "%q: use single (one layer holding everything) or groups (base and large packages in layers of their own)%s", s.Layering, suggestion(s.Layering, []string{"single", "groups"}))
	}
	switch s.Check {
	case "", "warn", "error", "off":
	default:
		return s.errorf("check", "%q: use warn, error or off%s", s.Check, suggestion(s.Check, []string{"warn", "error", "off"}))
	}
	for i, p := range s.Packages {
		if !validPackageName(p.Name) {
			return s.errorf(fmt.Sprintf("packages[%d]", i), "%q is not a package name", p.Name)
		}
	}
	for i := range s.Sources {
		if _, err := s.source(i, d); err != nil {
			return err
		}
	}
	if err := s.validateAccounts(); err != nil {
		return err
	}
	if err := s.validatePaths(); err != nil {
		return err
	}
	if s.Workdir != "" && !path.IsAbs(s.Workdir) {
		return s.errorf("workdir", "%q must be an absolute path", s.Workdir)
	}
	return s.validateOutputs()
}

func validPackageName(n string) bool {
	base, _, _ := strings.Cut(n, "@") // apk's name@tag
	if base == "" {
		return false
	}
	for i, r := range base {
		ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || i > 0 && strings.ContainsRune("+-._:", r)
		if !ok {
			return false
		}
	}
	return true
}

// source converts sources[i] to a repo.Source, resolving its key path.
func (s *Spec) source(i int, d *repo.Distro) (repo.Source, error) {
	src := s.Sources[i]
	p := fmt.Sprintf("sources[%d]", i)
	set := 0
	for _, v := range []string{src.Deb, src.APK, src.URL} {
		if v != "" {
			set++
		}
	}
	if set != 1 {
		return repo.Source{}, s.errorf(p, "give exactly one of deb (a one-line sources entry), apk (a repositories line) or url")
	}
	var out repo.Source
	var err error
	switch {
	case src.Deb != "":
		out, err = repo.ParseDebSourceLine(src.Deb)
	case src.APK != "":
		var ok bool
		out, ok, err = repo.ParseAPKRepository(src.APK)
		if err == nil && !ok {
			err = fmt.Errorf("empty repository line")
		}
	default:
		line := src.URL
		if src.Tag != "" {
			line = "@" + src.Tag + " " + src.URL
		}
		if d.Family == repo.FamilyAPK {
			out, _, err = repo.ParseAPKRepository(line)
		} else {
			out, err = repo.ParseDebSourceLine("deb " + src.URL + " " + src.Suite + " " + strings.Join(src.Components, " "))
		}
		out.Arches = src.Arches
	}
	if err != nil {
		return repo.Source{}, s.errorf(p, "%v", err)
	}
	if src.Key != "" {
		out.SignedBy = src.Key
	}
	if d.Family == repo.FamilyDeb && out.SignedBy == "" {
		return repo.Source{}, s.errorf(p, "name the repository's key: key: keys/vendor.asc, or [signed-by=...] in the deb line")
	}
	if out.SignedBy != "" && !strings.Contains(out.SignedBy, "BEGIN PGP") && !strings.Contains(out.SignedBy, "BEGIN PUBLIC KEY") {
		out.SignedBy = s.rel(out.SignedBy)
		if _, err := os.Stat(out.SignedBy); err != nil {
			return repo.Source{}, s.errorf(p, "key: %v", err)
		}
	}
	return out, nil
}

func (s *Spec) validateAccounts() error {
	names := map[string]bool{}
	for i, g := range s.Accounts.Groups {
		p := fmt.Sprintf("accounts.groups[%d]", i)
		if !accountName.MatchString(g.Name) || names["g:"+g.Name] {
			return s.errorf(p, "%q: group names are distinct and match %s", g.Name, accountName)
		}
		names["g:"+g.Name] = true
		if g.GID != nil && (*g.GID < 0 || *g.GID >= 1<<31-1) {
			return s.errorf(p+".gid", "%d: ids range from 0 to 2147483646", *g.GID)
		}
	}
	for i, u := range s.Accounts.Users {
		p := fmt.Sprintf("accounts.users[%d]", i)
		if !accountName.MatchString(u.Name) || names["u:"+u.Name] {
			return s.errorf(p, "%q: user names are distinct and match %s", u.Name, accountName)
		}
		names["u:"+u.Name] = true
		if u.UID != nil && (*u.UID < 0 || *u.UID >= 1<<31-1) {
			return s.errorf(p+".uid", "%d: ids range from 0 to 2147483646", *u.UID)
		}
		for _, f := range []struct{ k, v string }{{"home", u.Home}, {"shell", u.Shell}} {
			if f.v != "" && !path.IsAbs(f.v) {
				return s.errorf(p+"."+f.k, "%q must be an absolute path", f.v)
			}
		}
	}
	return nil
}

func (s *Spec) validatePaths() error {
	for i, p := range s.Paths {
		at := fmt.Sprintf("paths[%d]", i)
		if !path.IsAbs(p.Path) || path.Clean(p.Path) == "/" {
			return s.errorf(at, "path %q must be absolute and not /", p.Path)
		}
		switch p.Type {
		case "", "directory":
			if p.Target != "" {
				return s.errorf(at, "target is only for type: symlink")
			}
		case "symlink":
			if p.Target == "" {
				return s.errorf(at, "a symlink needs a target")
			}
		default:
			return s.errorf(at+".type", "%q: use directory or symlink (or leave it out to change an existing path)%s", p.Type, suggestion(p.Type, []string{"directory", "symlink"}))
		}
		if p.Type == "" && !p.Mode.Set && p.Owner == "" {
			return s.errorf(at, "give a type (directory, symlink), a mode or an owner")
		}
	}
	for i, f := range s.Files {
		at := fmt.Sprintf("files[%d]", i)
		if f.Src == "" || f.Dest == "" {
			return s.errorf(at, "a file needs src (a local path) and dest (a path in the image)")
		}
		if !path.IsAbs(f.Dest) {
			return s.errorf(at+".dest", "%q must be an absolute path", f.Dest)
		}
		fi, err := os.Stat(s.rel(f.Src))
		if err != nil {
			return s.errorf(at+".src", "%v", err)
		}
		if !fi.Mode().IsRegular() {
			return s.errorf(at+".src", "%s is not a regular file", f.Src)
		}
	}
	return nil
}

func (s *Spec) validateOutputs() error {
	multi := len(s.Architectures) > 1
	for i, o := range s.Outputs {
		at := fmt.Sprintf("outputs[%d]", i)
		kind, dest, ok := strings.Cut(o, ":")
		if o == "containers-storage" {
			continue
		}
		known := false
		for _, k := range outputKinds {
			known = known || k == kind
		}
		if !ok || dest == "" || !known {
			return s.errorf(at, "%q: expected KIND:DEST with KIND one of %s, e.g. oci-archive:image.tar%s", o, strings.Join(outputKinds, ", "), outputSuggestion(o))
		}
		if multi && !strings.Contains(o, "{arch}") && kind != "oci" && kind != "oci-archive" && kind != "docker" {
			return s.errorf(at, "%q: with several architectures a %s output needs {arch} in its name (oci, oci-archive and docker outputs without it get an image index)", o, kind)
		}
	}
	return nil
}
