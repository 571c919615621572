package deb

import (
	"fmt"
	"sort"
	"strings"
)

// writeInfo writes each package's info files, arch, the trigger
// interests and dpkg's lock files.
func (a *assembler) writeInfo() error {
	for _, p := range a.pkgs {
		if err := a.writePkgInfo(p); err != nil {
			return err
		}
	}
	if err := a.t.WriteFile(dpkgAdmin+"/arch", []byte(a.arch+"\n"), a.attr(0o644)); err != nil {
		return err
	}
	for _, f := range []struct {
		path string
		mode uint32
	}{{"lock", 0o640}, {"lock-frontend", 0o640}, {"triggers/Lock", 0o600}, {"triggers/Unincorp", 0o644}} {
		if err := a.t.WriteFile(dpkgAdmin+"/"+f.path, nil, a.attr(f.mode)); err != nil {
			return err
		}
	}
	return a.writeTriggers()
}

func (a *assembler) writePkgInfo(p *instPkg) error {
	base := dpkgAdmin + "/info/" + p.infoName + "."
	list := strings.Join(p.unpacked.Paths, "\n") + "\n"
	if err := a.t.WriteFile(base+"list", []byte(list), a.attr(0o644)); err != nil {
		return err
	}
	names := make([]string, 0, len(p.ctl))
	for name := range p.ctl {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		m := p.ctl[name]
		if !validInfoName(name) {
			return fmt.Errorf("%w: %s: control member %q", ErrBadDeb, p.name, name)
		}
		if err := a.t.WriteFile(base+name, m.data, a.attr(uint32(m.mode))); err != nil {
			return err
		}
	}
	return nil
}

// validInfoName accepts what dpkg accepts as a control member name.
func validInfoName(name string) bool {
	if name == "" || name == "list" {
		return false
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// triggerDB is what the packages' "triggers" control members declare.
type triggerDB struct {
	file  map[string][]string // path -> "pkg" or "pkg/noawait"
	named map[string][]string // trigger name -> "pkg" or "pkg/noawait"
}

// writeTriggers records interests as dpkg does in triggers/File and
// triggers/<name>. Activations need nothing on disk once every package
// is configured.
func (a *assembler) writeTriggers() error {
	trig := triggerDB{file: map[string][]string{}, named: map[string][]string{}}
	for _, p := range a.pkgs {
		for _, line := range strings.Split(string(p.script("triggers")), "\n") {
			f := strings.Fields(line)
			if len(f) != 2 || strings.HasPrefix(f[0], "#") {
				continue
			}
			who := p.infoName
			switch f[0] {
			case "interest-noawait":
				who += "/noawait"
			case "interest", "interest-await":
			default:
				continue
			}
			if strings.HasPrefix(f[1], "/") {
				trig.file[f[1]] = append(trig.file[f[1]], who)
			} else {
				trig.named[f[1]] = append(trig.named[f[1]], who)
			}
		}
	}
	var file strings.Builder
	for _, path := range sortedKeys(trig.file) {
		for _, who := range trig.file[path] {
			file.WriteString(path + " " + who + "\n")
		}
	}
	if err := a.t.WriteFile(dpkgAdmin+"/triggers/File", []byte(file.String()), a.attr(0o644)); err != nil {
		return err
	}
	for _, name := range sortedKeys(trig.named) {
		if strings.ContainsAny(name, "/\x00") || name == "." || name == ".." || name == "File" || name == "Lock" || name == "Unincorp" {
			return fmt.Errorf("%w: trigger name %q", ErrBadDeb, name)
		}
		body := strings.Join(trig.named[name], "\n") + "\n"
		if err := a.t.WriteFile(dpkgAdmin+"/triggers/"+name, []byte(body), a.attr(0o644)); err != nil {
			return err
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
