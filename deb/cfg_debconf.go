package deb

import (
	"strings"
)

// debconf's database (/var/cache/debconf/config.dat, templates.dat,
// passwords.dat), as debconf 1.5 leaves it after a noninteractive install:
// a maintainer script that sources the confmodule makes debconf load the
// package's templates, owned by the package ("name" from a preinst, which
// debconf names after the control file, "name:arch" from the postinst of
// a Multi-Arch: same package, named after the script); every template
// makes a question of the same name. Questions the scripts show get their
// default as value (the noninteractive frontend), db_set and db_subst
// store values and variables. Which questions a package shows on a fresh
// install is known per package (ca-certificates, libpam-runtime, debconf
// itself); other packages with a debconf config script are uncovered.
// Files are written in debconf's 822 format, items sorted by name.

const debconfDir = "var/cache/debconf"

type dcQuestion struct {
	template string
	value    *string
	owners   map[string]bool
	flags    map[string]bool
	vars     map[string]string
}

type debconfDB struct {
	a         *assembler
	enabled   bool
	templates map[string]map[string]string // lower-case field -> value
	users     map[string]map[string]bool   // template -> questions using it
	questions map[string]*dcQuestion
}

func newDebconfDB(a *assembler) *debconfDB {
	db := &debconfDB{a: a, enabled: a.has("debconf"), templates: map[string]map[string]string{},
		users: map[string]map[string]bool{}, questions: map[string]*dcQuestion{}}
	if !db.enabled {
		return db
	}
	// The preinsts run while unpacking, before any package is configured.
	for _, p := range a.pkgs {
		if sourcesConfmodule(p.script("preinst")) {
			db.load(p, p.name)
		}
	}
	return db
}

// sourcesConfmodule reports whether a script sources debconf's confmodule.
func sourcesConfmodule(script []byte) bool {
	return strings.Contains(string(script), "/usr/share/debconf/confmodule")
}

// register loads p's templates as its postinst (or config) would.
func (db *debconfDB) register(p *instPkg) {
	if !db.enabled {
		return
	}
	if sourcesConfmodule(p.script("postinst")) || len(p.script("config")) > 0 && sourcesConfmodule(p.script("config")) {
		db.load(p, p.infoName)
	}
	if p.name == "debconf" {
		// debconf's config shows its frontend and priority questions.
		db.seenDefault("debconf/frontend")
		db.seenDefault("debconf/priority")
	}
}

// load is Debconf::Template->load of p's templates with owner.
func (db *debconfDB) load(p *instPkg, owner string) {
	for _, t := range parseTemplates(string(p.script("templates"))) {
		name := t["template"]
		delete(t, "template")
		db.templates[name] = t
		if db.users[name] == nil {
			db.users[name] = map[string]bool{}
		}
		db.users[name][name] = true
		q := db.questions[name]
		if q == nil {
			q = &dcQuestion{template: name, owners: map[string]bool{}, flags: map[string]bool{}, vars: map[string]string{}}
			db.questions[name] = q
		}
		q.owners[owner] = true
	}
}

// parseTemplates reads a templates file as Debconf::Template->load does.
func parseTemplates(data string) []map[string]string {
	var out []map[string]string
	for _, stanza := range strings.Split(strings.ReplaceAll(data, "\r\n", "\n"), "\n\n") {
		stanza = strings.Trim(stanza, "\n")
		if stanza == "" {
			continue
		}
		t := map[string]string{}
		var field, value, ext string
		save := func() {
			ext = strings.TrimRight(ext, "\n")
			if field != "" {
				t[field] = value
				if ext != "" {
					t["extended_"+field] = ext
				}
			}
		}
		for _, line := range strings.Split(stanza, "\n") {
			switch {
			case isTemplateField(line):
				save()
				k, v, _ := strings.Cut(line, ":")
				field = strings.ToLower(k)
				if v != "" && (v[0] == ' ' || v[0] == '\t') {
					v = v[1:]
				}
				value = strings.TrimRight(v, " \t\r\n\v\f")
				ext = ""
			case len(line) >= 2 && (line[0] == ' ' || line[0] == '\t') && strings.TrimRight(line[1:], " \t") == ".":
				ext += "\n\n"
			case len(line) >= 2 && (line[0] == ' ' || line[0] == '\t') && (line[1] == ' ' || line[1] == '\t'):
				bit := strings.TrimRight(line[1:], " \t\r\n\v\f")
				if ext != "" && !strings.HasSuffix(ext, "\n") && !strings.HasSuffix(ext, " ") {
					ext += "\n"
				}
				ext += bit + "\n"
			case len(line) >= 1 && (line[0] == ' ' || line[0] == '\t'):
				bit := strings.TrimRight(line[1:], " \t\r\n\v\f")
				if ext != "" && !strings.HasSuffix(ext, "\n") && !strings.HasSuffix(ext, " ") {
					ext += " "
				}
				ext += bit
			}
		}
		save()
		if t["template"] != "" {
			out = append(out, t)
		}
	}
	return out
}

// isTemplateField matches /^([-_@.A-Za-z0-9]*):/.
func isTemplateField(line string) bool {
	i := strings.IndexByte(line, ':')
	if i < 0 {
		return false
	}
	for _, c := range line[:i] {
		if !(c == '-' || c == '_' || c == '@' || c == '.' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// set is db_set.
func (db *debconfDB) set(q, v string) {
	if qq := db.questions[q]; qq != nil {
		qq.value = &v
	}
}

// subst is db_subst.
func (db *debconfDB) subst(q, name, v string) {
	if qq := db.questions[q]; qq != nil {
		qq.vars[name] = v
	}
}

// flag is db_fset q name true.
func (db *debconfDB) flag(q, name string) {
	if qq := db.questions[q]; qq != nil {
		qq.flags[name] = true
	}
}

// seenDefault is db_input under the noninteractive frontend: the question
// keeps its value, or gets its template's default.
func (db *debconfDB) seenDefault(q string) {
	qq := db.questions[q]
	if qq == nil || qq.value != nil {
		return
	}
	if d, ok := db.templates[qq.template]["default"]; ok {
		qq.value = &d
	} else {
		empty := ""
		qq.value = &empty
	}
}

// write saves the three database files.
func (db *debconfDB) write() error {
	if !db.enabled {
		return nil
	}
	a := db.a
	if err := a.ensureDir(debconfDir, 0o755); err != nil {
		return err
	}
	var cfg, tpl strings.Builder
	for _, name := range sortedKeys(db.questions) {
		q := db.questions[name]
		fields := map[string]string{"template": q.template}
		if q.value != nil {
			fields["value"] = *q.value
		}
		write822(&cfg, name, fields, q.owners, q.flags, q.vars)
	}
	for _, name := range sortedKeys(db.templates) {
		write822(&tpl, name, db.templates[name], db.users[name], nil, nil)
	}
	if err := a.replaceFile(debconfDir+"/config.dat", []byte(cfg.String()), 0o644, 0, 0); err != nil {
		return err
	}
	if err := a.replaceFile(debconfDir+"/templates.dat", []byte(tpl.String()), 0o644, 0, 0); err != nil {
		return err
	}
	if !a.exists(debconfDir + "/passwords.dat") {
		return a.t.WriteFile(debconfDir+"/passwords.dat", nil, a.attr(0o600))
	}
	return nil
}

// write822 is Debconf::Format::822's write.
func write822(b *strings.Builder, name string, fields map[string]string, owners, flags map[string]bool, vars map[string]string) {
	b.WriteString("Name: " + name + "\n")
	for _, k := range sortedKeys(fields) {
		if k == "" {
			continue
		}
		b.WriteString(strings.ToUpper(k[:1]) + k[1:] + ": " + strings.ReplaceAll(fields[k], "\n", `\n`) + "\n")
	}
	if len(owners) > 0 {
		b.WriteString("Owners: " + strings.Join(sortedKeys(owners), ", ") + "\n")
	}
	if len(flags) > 0 {
		b.WriteString("Flags: " + strings.Join(sortedKeys(flags), ", ") + "\n")
	}
	if len(vars) > 0 {
		b.WriteString("Variables:\n")
		for _, k := range sortedKeys(vars) {
			b.WriteString(" " + k + " = " + strings.ReplaceAll(vars[k], "\n", `\n`) + "\n")
		}
	}
	b.WriteString("\n")
}
