package deb

import (
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/rootfsd/rootfsd/repo"
)

// instPkg is one package of an assembly: what its control archive says and,
// once unpacked, what it put into the tree.
type instPkg struct {
	planned repo.Planned
	name    string
	// infoName is the name of its files in var/lib/dpkg/info: "libc6:amd64"
	// for Multi-Arch: same packages, the plain name otherwise.
	infoName string
	version  string
	arch     string
	multi    string // Multi-Arch
	// ctl holds the control members (except "control") with their modes.
	ctl          map[string]ctlMember
	fields       []ctlField // the control file, in order
	replacesDeps []Dep
	provides     []Provide
	// conffiles are the lines of the conffiles member.
	conffiles []conffile
	// confSums are the md5 digests of the conffiles as unpacked.
	confSums map[string]string
	unpacked *Unpacked
	// dataMember is the name of the data archive member, "" if unknown.
	dataMember string
}

type ctlMember struct {
	data []byte
	mode int64
}

type ctlField struct{ name, value string }

type conffile struct {
	path  string
	flags string // "remove-on-upgrade", ...
}

// field returns the value of a control field, case-insensitively.
func (p *instPkg) field(name string) string {
	for _, f := range p.fields {
		if strings.EqualFold(f.name, name) {
			return f.value
		}
	}
	return ""
}

// script returns a maintainer script or other control member.
func (p *instPkg) script(name string) []byte { return p.ctl[name].data }

// replaces reports whether p's Replaces names q at its version, directly
// or through something q provides.
func (p *instPkg) replaces(q *instPkg) bool {
	for _, d := range p.replacesDeps {
		if d.Name == q.name && (d.Op == OpAny || Satisfies(q.version, d.Op, d.Version)) {
			return true
		}
		for _, pv := range q.provides {
			if d.Name == pv.Name && (d.Op == OpAny || pv.Version != "" && Satisfies(pv.Version, d.Op, d.Version)) {
				return true
			}
		}
	}
	return false
}

// readControls reads the control archive of every package, four at a
// time: the Replaces fields decide the unpack order, the rest feeds the
// dpkg database and the built-ins.
func (a *assembler) readControls(open func(repo.Planned) (io.ReadCloser, error)) error {
	pkgs := make([]*instPkg, len(a.plan.Packages))
	errs := make([]error, len(pkgs))
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for i, pl := range a.plan.Packages {
		wg.Add(1)
		go func(i int, pl repo.Planned) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			pkgs[i], errs[i] = a.readControl(pl, open)
		}(i, pl)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	for _, p := range pkgs {
		if a.byName[p.name] != nil {
			return fmt.Errorf("%w: package %s is in the plan twice", ErrAssemble, p.name)
		}
		a.byName[p.name] = p
		a.pkgs = append(a.pkgs, p)
	}
	return nil
}

func (a *assembler) readControl(pl repo.Planned, open func(repo.Planned) (io.ReadCloser, error)) (*instPkg, error) {
	rc, err := open(pl)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", pl.ID(), err)
	}
	defer rc.Close()
	ctl, data, err := readControlMembers(a.ctx, rc, a.opt.Limits.withDefaults().MaxControl)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", pl.ID(), err)
	}
	p := &instPkg{planned: pl, ctl: ctl, dataMember: data}
	if err := p.parseControl(); err != nil {
		return nil, fmt.Errorf("%s: %w", pl.ID(), err)
	}
	if p.name != pl.Name || p.version != pl.Version {
		return nil, fmt.Errorf("%s: %w: the .deb is %s %s", pl.ID(), ErrBadDeb, p.name, p.version)
	}
	p.infoName = p.name
	if p.multi == "same" {
		p.infoName = p.name + ":" + p.arch
	}
	return p, nil
}

// parseControl fills the fields from the control member and conffiles.
func (p *instPkg) parseControl() error {
	c, ok := p.ctl["control"]
	if !ok {
		return fmt.Errorf("%w: control.tar has no control file", ErrBadDeb)
	}
	delete(p.ctl, "control")
	n := 0
	err := ParseControl(c.data, func(par *Paragraph) error {
		if n++; n > 1 {
			return fmt.Errorf("%w: control file has more than one paragraph", ErrBadDeb)
		}
		for _, f := range par.Fields {
			p.fields = append(p.fields, ctlField{string(f.Name), string(f.Value)})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("control file: %w", err)
	}
	p.name, p.version, p.arch, p.multi = p.field("Package"), p.field("Version"), p.field("Architecture"), p.field("Multi-Arch")
	if p.name == "" || p.version == "" || p.arch == "" {
		return fmt.Errorf("%w: control file lacks Package, Version or Architecture", ErrBadDeb)
	}
	if r := p.field("Replaces"); r != "" {
		if p.replacesDeps, err = ParseDeps(r); err != nil {
			return fmt.Errorf("Replaces: %w", err)
		}
	}
	if pv := p.field("Provides"); pv != "" {
		if p.provides, err = ParseProvides(pv); err != nil {
			return fmt.Errorf("Provides: %w", err)
		}
	}
	for i, line := range strings.Split(string(p.ctl["conffiles"].data), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if !strings.HasPrefix(f[0], "/") || len(f) > 2 {
			return fmt.Errorf("%w: conffiles line %d is malformed: %.80q", ErrBadDeb, i+1, line)
		}
		cf := conffile{path: f[0]}
		if len(f) == 2 {
			cf.flags = f[1]
		}
		p.conffiles = append(p.conffiles, cf)
	}
	return nil
}

// order sorts a.pkgs into unpack (and configure) order: a package comes
// after the packages it Replaces, so that its files win as dpkg's rules
// say whatever the order of the plan, and after its dependencies where
// that does not contradict Replaces. The Essential set (Essential: yes
// packages and what they depend on) goes first, as debootstrap and
// mmdebstrap install it before anything else. Ties and cycles are broken
// by name.
func (a *assembler) order() {
	n := len(a.pkgs)
	index := make(map[string]int, n)
	for i, p := range a.pkgs {
		index[p.name] = i
	}
	hard := make([][]int, n) // hard[i]: packages that must come after i
	soft := make([][]int, n)
	nHard, nSoft := make([]int, n), make([]int, n)
	for i, p := range a.pkgs {
		for j, q := range a.pkgs {
			if i != j && p.replaces(q) && !q.replaces(p) {
				hard[j] = append(hard[j], i)
				nHard[i]++
			}
		}
		for _, d := range p.planned.Depends {
			if j, ok := index[d]; ok && j != i {
				soft[j] = append(soft[j], i)
				nSoft[i]++
			}
		}
	}
	core := a.essentialSet(index)
	done := make([]bool, n)
	out := make([]*instPkg, 0, n)
	// first returns the first package, not done, that ok accepts: the
	// Essential set before the rest, then by name.
	first := func(ok func(i int) bool) int {
		pick := -1
		for i := range a.pkgs {
			if done[i] || !ok(i) {
				continue
			}
			if pick < 0 || core[i] && !core[pick] || core[i] == core[pick] && a.pkgs[i].name < a.pkgs[pick].name {
				pick = i
			}
		}
		return pick
	}
	for len(out) < n {
		// The first package by name with nothing left before it; in a
		// dependency cycle, the first of those waiting for the fewest
		// dependencies whose Replaces are satisfied; in a Replaces cycle,
		// the first by name.
		pick := first(func(i int) bool { return nHard[i] == 0 && nSoft[i] == 0 })
		if pick < 0 { // a dependency cycle: the package waiting for the fewest
			least := -1
			for i := range a.pkgs {
				if !done[i] && nHard[i] == 0 && (least < 0 || nSoft[i] < least) {
					least = nSoft[i]
				}
			}
			pick = first(func(i int) bool { return nHard[i] == 0 && nSoft[i] == least })
		}
		if pick < 0 {
			pick = first(func(int) bool { return true })
		}
		done[pick] = true
		out = append(out, a.pkgs[pick])
		for _, j := range hard[pick] {
			nHard[j]--
		}
		for _, j := range soft[pick] {
			nSoft[j]--
		}
	}
	a.pkgs = out
}

// essentialSet marks the Essential packages and everything they depend on.
func (a *assembler) essentialSet(index map[string]int) []bool {
	core := make([]bool, len(a.pkgs))
	var mark func(i int)
	mark = func(i int) {
		if core[i] {
			return
		}
		core[i] = true
		for _, d := range a.pkgs[i].planned.Depends {
			if j, ok := index[d]; ok {
				mark(j)
			}
		}
	}
	for i, p := range a.pkgs {
		if p.planned.Essential || strings.EqualFold(p.field("Essential"), "yes") {
			mark(i)
		}
	}
	return core
}

// unpackOrder is the configure order with base-files first: its merged-/usr
// links (noble) must be in place before any package's files.
func (a *assembler) unpackOrder() []*instPkg {
	out := make([]*instPkg, 0, len(a.pkgs))
	if p := a.byName["base-files"]; p != nil {
		out = append(out, p)
	}
	for _, p := range a.pkgs {
		if p.name != "base-files" {
			out = append(out, p)
		}
	}
	return out
}
