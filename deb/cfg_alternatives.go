package deb

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/rootfsd/rootfsd/repo/fstree"
)

// update-alternatives, as dpkg 1.21/1.22 implements --install and --set:
// every alternative is a name with a master link, optional slave links and
// choices with priorities; in auto mode the highest priority wins (the
// first registered among equals). The links are
//
//	/usr/bin/awk -> /etc/alternatives/awk -> /usr/bin/mawk
//
// and the state is var/lib/dpkg/alternatives/NAME. Slave links whose file
// the chosen alternative lacks (or that trimming removed) are not made,
// as update-alternatives skips them.

const altDir = "etc/alternatives"

type altChoice struct {
	path     string
	priority int
	slaves   map[string]string // slave name -> file
}

type altSlave struct{ name, link string }

type alternative struct {
	name    string
	link    string // master link
	manual  string // chosen with --set; "" in auto mode
	slaves  []altSlave
	choices []*altChoice
}

// altDB holds every alternative, in the order first installed.
type altDB struct {
	byName map[string]*alternative
	order  []string
}

func newAltDB() *altDB { return &altDB{byName: map[string]*alternative{}} }

// install is update-alternatives --install link name path priority
// [--slave link name path]...
func (db *altDB) install(link, name, file string, priority int, slaves [][3]string) error {
	alt := db.byName[name]
	if alt == nil {
		alt = &alternative{name: name, link: link}
		db.byName[name] = alt
		db.order = append(db.order, name)
	} else if alt.link != link {
		return fmt.Errorf("alternative %s: link %s, but it is already %s", name, link, alt.link)
	}
	c := alt.choice(file)
	if c == nil {
		c = &altChoice{path: file}
		alt.choices = append(alt.choices, c)
	}
	c.priority = priority
	c.slaves = map[string]string{}
	for _, s := range slaves {
		c.slaves[s[1]] = s[2]
		if !alt.hasSlave(s[1]) {
			alt.slaves = append(alt.slaves, altSlave{name: s[1], link: s[0]})
		}
	}
	return nil
}

func (alt *alternative) choice(file string) *altChoice {
	for _, c := range alt.choices {
		if c.path == file {
			return c
		}
	}
	return nil
}

func (alt *alternative) hasSlave(name string) bool {
	for _, s := range alt.slaves {
		if s.name == name {
			return true
		}
	}
	return false
}

// best is the choice auto mode selects.
func (alt *alternative) best() *altChoice {
	var best *altChoice
	for _, c := range alt.choices {
		if best == nil || c.priority > best.priority {
			best = c
		}
	}
	if alt.manual != "" {
		if c := alt.choice(alt.manual); c != nil {
			return c
		}
	}
	return best
}

// state renders var/lib/dpkg/alternatives/NAME.
func (alt *alternative) state() string {
	var b strings.Builder
	status := "auto"
	if alt.manual != "" {
		status = "manual"
	}
	b.WriteString(status + "\n" + alt.link + "\n")
	for _, s := range alt.slaves {
		b.WriteString(s.name + "\n" + s.link + "\n")
	}
	b.WriteString("\n")
	for _, c := range alt.choices {
		fmt.Fprintf(&b, "%s\n%d\n", c.path, c.priority)
		for _, s := range alt.slaves {
			b.WriteString(c.slaves[s.name] + "\n")
		}
	}
	b.WriteString("\n")
	return b.String()
}

// write makes the links of every alternative and writes its state.
func (db *altDB) write(a *assembler) error {
	for _, name := range db.order {
		alt := db.byName[name]
		best := alt.best()
		if best == nil || !a.exists(best.path) {
			continue
		}
		if err := a.altLink(alt.link, name, best.path); err != nil {
			return err
		}
		for _, s := range alt.slaves {
			file := best.slaves[s.name]
			if file == "" || !a.exists(file) {
				_ = a.t.Remove(altDir + "/" + s.name)
				continue
			}
			if err := a.altLink(s.link, s.name, file); err != nil {
				return err
			}
		}
		if err := a.t.WriteFile(dpkgAdmin+"/alternatives/"+name, []byte(alt.state()), a.attr(0o644)); err != nil {
			return err
		}
	}
	return nil
}

// altLink makes link -> /etc/alternatives/name -> file. A link path that
// holds a real file is left alone, as update-alternatives does without
// --force.
func (a *assembler) altLink(link, name, file string) error {
	if err := a.ensureDir(altDir, 0o755); err != nil {
		return err
	}
	if err := a.replaceSymlink(file, altDir+"/"+name); err != nil {
		return err
	}
	if i, err := a.t.Lookup(link); err == nil && i.Kind != fstree.KindSymlink {
		a.warn("", fmt.Sprintf("update-alternatives: not replacing %s with a link", link))
		return nil
	}
	if !a.isDir(parentDir(link)) {
		return nil
	}
	return a.replaceSymlink("/"+altDir+"/"+name, link)
}

func parentDir(p string) string {
	if i := strings.LastIndexByte(p, '/'); i > 0 {
		return p[:i]
	}
	return "/"
}

// runAlternatives runs the update-alternatives calls of a script.
func (a *assembler) runAlternatives(p *instPkg, script string) error {
	for _, args := range shellCommands(script, "update-alternatives") {
		if err := a.alternativesCommand(p, args); err != nil {
			a.warn(p.name, fmt.Sprintf("%s: update-alternatives %s: %v", p.name, strings.Join(args, " "), err))
		}
	}
	return nil
}

// scriptAlternatives runs the update-alternatives calls of p's postinst
// outside debhelper blocks.
func (a *assembler) scriptAlternatives(p *instPkg) error {
	return a.runAlternatives(p, stripDebhelper(string(p.script("postinst"))))
}

// alternativesCommand interprets one update-alternatives argument list.
func (a *assembler) alternativesCommand(p *instPkg, args []string) error {
	var install []string
	var slaves [][3]string
	for i := 0; i < len(args); i++ {
		switch arg := args[i]; arg {
		case "--install":
			if len(args)-i-1 < 4 {
				return fmt.Errorf("--install needs four arguments")
			}
			install = args[i+1 : i+5]
			i += 4
		case "--slave":
			if len(args)-i-1 < 3 {
				return fmt.Errorf("--slave needs three arguments")
			}
			slaves = append(slaves, [3]string{args[i+1], args[i+2], args[i+3]})
			i += 3
		case "--set":
			if len(args)-i-1 < 2 {
				return fmt.Errorf("--set needs two arguments")
			}
			if alt := a.alts.byName[args[i+1]]; alt != nil {
				alt.manual = args[i+2]
			}
			i += 2
		case "--remove", "--remove-all", "--auto", "--display", "--query", "--list", "--config":
			return nil // nothing to undo or show on a fresh install
		case "--quiet", "--verbose", "--force", "--debug":
		default:
			if strings.HasPrefix(arg, "--") {
				return fmt.Errorf("option %s is not supported", arg)
			}
			return fmt.Errorf("unexpected argument %q", arg)
		}
	}
	if install == nil {
		return nil
	}
	prio, err := strconv.Atoi(install[3])
	if err != nil {
		return fmt.Errorf("priority %q: %w", install[3], err)
	}
	for _, n := range append([]string{install[1]}, slaveNames(slaves)...) {
		if n == "" || strings.ContainsAny(n, "/ ") || n == "." || n == ".." {
			return fmt.Errorf("alternative name %q is invalid", n)
		}
	}
	for _, f := range append([]string{install[0], install[2]}, slaveFiles(slaves)...) {
		if !strings.HasPrefix(f, "/") {
			return fmt.Errorf("%q is not an absolute path", f)
		}
	}
	if !a.exists(install[2]) {
		// A path the trim profile leaves out (a man page) is not an
		// error: dpkg with the same path-exclude rules gets the same.
		if filterSkips(a.trim, install[2], fstree.KindFile) {
			return nil
		}
		return fmt.Errorf("alternative path %s doesn't exist", install[2])
	}
	return a.alts.install(install[0], install[1], install[2], prio, slaves)
}

func slaveFiles(slaves [][3]string) []string {
	var out []string
	for _, s := range slaves {
		out = append(out, s[0], s[2])
	}
	return out
}

func slaveNames(slaves [][3]string) []string {
	var out []string
	for _, s := range slaves {
		out = append(out, s[1])
	}
	return out
}
