package spec

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/rootfsd/rootfsd/cmd/rootfsd/engine"
	"github.com/rootfsd/rootfsd/repo"
	"github.com/rootfsd/rootfsd/repo/overlay"
)

// Arches are the architectures to build; amd64 when none are listed.
func (s *Spec) Arches() []string {
	if len(s.Architectures) == 0 {
		return []string{"amd64"}
	}
	return append([]string(nil), s.Architectures...)
}

// Request is what a lock for arch is resolved from.
func (s *Spec) Request(arch string) (repo.Request, error) {
	d, err := repo.LookupDistro(s.Distro)
	if err != nil {
		return repo.Request{}, s.errorf("distro", "%v", err)
	}
	v, _ := repo.ParseVariant(s.Variant)
	req := repo.Request{Distro: d.Name(), Variant: v, Components: append([]string(nil), s.Components...), Recommends: s.Recommends}
	if d.Family == repo.FamilyAPK {
		req.Arch = repo.AlpineArch(arch)
	} else {
		req.Arch = repo.DebianArch(arch)
	}
	for _, p := range s.Packages {
		req.Packages = append(req.Packages, p.String())
	}
	for i := range s.Sources {
		src, err := s.source(i, d)
		if err != nil {
			return repo.Request{}, err
		}
		req.Sources = append(req.Sources, src)
	}
	return req, nil
}

// BuildRequest is the build of arch: the request, outputs (with {arch}
// replaced), trim, accounts the engine creates itself, and the image
// configuration. What it cannot express is in Overlay.
func (s *Spec) BuildRequest(arch string) (engine.BuildRequest, error) {
	req, err := s.Request(arch)
	if err != nil {
		return engine.BuildRequest{}, err
	}
	expand := strings.NewReplacer("{arch}", arch)
	b := engine.BuildRequest{
		Request: req, Trim: s.Trim, Scripts: s.Scripts, Layering: s.Layering,
		Tag:        expand.Replace(s.Tag),
		Env:        append([]string(nil), s.Env...),
		Cmd:        append([]string(nil), s.Cmd...),
		Entrypoint: append([]string(nil), s.Entrypoint...),
		WorkingDir: s.Workdir, User: s.User,
		Labels: copyMap(s.Labels), Annotations: copyMap(s.Annotations),
	}
	for _, o := range s.Outputs {
		b.Outputs = append(b.Outputs, expandOutput(s, expand.Replace(o)))
	}
	for _, u := range s.Accounts.Users {
		if simpleUser(u) {
			name := u.Name
			if u.UID != nil {
				name += fmt.Sprintf(":%d", *u.UID)
			}
			b.Users = append(b.Users, name)
		}
	}
	return b, nil
}

// Destinations are the outputs and tag of a build of every architecture
// at once: "{arch}" is kept (the engine writes those once per
// architecture; the others get an image index), paths are made relative
// to the spec's directory.
func (s *Spec) Destinations() (outputs []string, tag string) {
	for _, o := range s.Outputs {
		outputs = append(outputs, expandOutput(s, o))
	}
	return outputs, s.Tag
}

// expandOutput makes a file output's path relative to the spec's
// directory, as the spec's other paths are.
func expandOutput(s *Spec, o string) string {
	kind, dest, ok := strings.Cut(o, ":")
	if !ok || kind == "docker" || filepath.IsAbs(dest) {
		return o
	}
	return kind + ":" + s.rel(dest)
}

// simpleUser is an account the engine creates itself (NAME[:UID], home
// /home/NAME, a group of the same name).
func simpleUser(u User) bool {
	return u.Group == "" && len(u.Groups) == 0 && u.Home == "" && u.Shell == ""
}

func copyMap(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Overlay is what the build adds after the packages: groups, accounts the
// engine's NAME[:UID] form cannot express, paths, and the files (read now,
// relative to the spec's directory).
func (s *Spec) Overlay() (*overlay.Overlay, error) {
	o := &overlay.Overlay{}
	for _, g := range s.Accounts.Groups {
		gid := -1
		if g.GID != nil {
			gid = *g.GID
		}
		o.Groups = append(o.Groups, overlay.Group{Name: g.Name, GID: gid})
	}
	for _, u := range s.Accounts.Users {
		if simpleUser(u) {
			continue
		}
		uid := -1
		if u.UID != nil {
			uid = *u.UID
		}
		o.Users = append(o.Users, overlay.User{Name: u.Name, UID: uid, Group: u.Group, Groups: u.Groups, Home: u.Home, Shell: u.Shell})
	}
	for _, p := range s.Paths {
		o.Paths = append(o.Paths, overlay.Path{Path: p.Path, Type: p.Type, Mode: p.Mode.Value, HasMode: p.Mode.Set, Owner: p.Owner, Target: p.Target})
	}
	for i, f := range s.Files {
		data, err := readLocal(s.rel(f.Src))
		if err != nil {
			return nil, s.errorf(fmt.Sprintf("files[%d].src", i), "%v", err)
		}
		o.Files = append(o.Files, overlay.File{Src: f.Src, Dest: f.Dest, Mode: f.Mode.Value, Owner: f.Owner, Data: data})
	}
	if err := o.Check(); err != nil {
		return nil, fmt.Errorf("%s: %w", s.file, err)
	}
	return o, nil
}

func readLocal(p string) ([]byte, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if fi.Size() > overlay.MaxFileSize {
		return nil, fmt.Errorf("%s: larger than %d bytes", p, overlay.MaxFileSize)
	}
	return os.ReadFile(p)
}

// LockPath is where the lock of arch lives: beside the spec, named after
// it ("rootfs.yaml" -> "rootfs.lock"; with several architectures
// "rootfs.arm64.lock").
func (s *Spec) LockPath(arch string) string {
	base := strings.TrimSuffix(strings.TrimSuffix(s.file, ".yaml"), ".yml")
	if len(s.Architectures) > 1 {
		return base + "." + arch + ".lock"
	}
	return base + ".lock"
}

// Add parses --add SRC:DEST[:MODE] into an overlay file, reading SRC.
func Add(arg string) (overlay.File, error) {
	parts := strings.Split(arg, ":")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || !strings.HasPrefix(parts[1], "/") {
		return overlay.File{}, fmt.Errorf("--add %q: expected SRC:DEST[:MODE] with DEST absolute, e.g. ./app:/usr/local/bin/app:0755", arg)
	}
	f := overlay.File{Src: parts[0], Dest: parts[1]}
	if len(parts) == 3 {
		m, err := ParseMode(parts[2])
		if err != nil {
			return overlay.File{}, fmt.Errorf("--add %q: %w", arg, err)
		}
		f.Mode = m
	}
	data, err := readLocal(parts[0])
	if err != nil {
		return overlay.File{}, fmt.Errorf("--add %q: %w", arg, err)
	}
	f.Data = data
	return f, nil
}
