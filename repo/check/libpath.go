package check

import (
	"debug/elf"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// triplets are the multiarch directory names of Debian and Ubuntu.
var triplets = []string{
	"x86_64-linux-gnu", "i386-linux-gnu", "aarch64-linux-gnu", "arm-linux-gnueabihf", "arm-linux-gnueabi",
	"powerpc64le-linux-gnu", "s390x-linux-gnu", "riscv64-linux-gnu", "mips64el-linux-gnuabi64", "x86_64-linux-gnux32",
}

// defaultDirs are the directories glibc's and musl's loaders search when
// nothing else names the library. Candidates of the wrong class or machine
// are skipped, so listing every multiarch directory is harmless.
func defaultDirs() []string {
	dirs := []string{"/lib", "/usr/lib", "/lib64", "/usr/lib64", "/lib32", "/usr/lib32", "/libx32", "/usr/libx32", "/usr/local/lib"}
	for _, t := range triplets {
		dirs = append(dirs, "/lib/"+t, "/usr/lib/"+t)
	}
	return dirs
}

// maxConfSize and maxConfFiles bound what ld.so.conf parsing reads.
const (
	maxConfSize  = 1 << 20
	maxConfFiles = 256
)

// libPath finds libraries the way the dynamic loader does: DT_RUNPATH (or
// DT_RPATH), LD_LIBRARY_PATH, the directories of ld.so.conf (what
// ld.so.cache is built from) or musl's ld-musl-ARCH.path, and the defaults.
type libPath struct {
	fsys  fs.ReadLinkFS
	dirs  []string
	found map[string]bool
	hdrs  map[string]elfHeader
}

type elfHeader struct {
	ok      bool
	class   elf.Class
	machine elf.Machine
}

func newLibPath(fsys fs.ReadLinkFS, cfg *ImageConfig) *libPath {
	lp := &libPath{fsys: fsys, found: map[string]bool{}, hdrs: map[string]elfHeader{}}
	if cfg != nil {
		for _, e := range cfg.Env {
			if v, ok := strings.CutPrefix(e, "LD_LIBRARY_PATH="); ok {
				lp.dirs = append(lp.dirs, splitList(v)...)
			}
		}
	}
	files := 0
	lp.dirs = append(lp.dirs, lp.confDirs("/etc/ld.so.conf", 0, &files)...)
	lp.dirs = append(lp.dirs, lp.muslDirs()...)
	lp.dirs = append(lp.dirs, defaultDirs()...)
	return lp
}

// confDirs reads an ld.so.conf file and its includes.
func (lp *libPath) confDirs(file string, depth int, files *int) []string {
	if depth > 8 || *files >= maxConfFiles {
		return nil
	}
	*files++
	data := readSmall(lp.fsys, file, maxConfSize)
	if data == nil {
		return nil
	}
	dirs, includes := ParseLdSoConf(data)
	for _, inc := range includes {
		if !strings.HasPrefix(inc, "/") {
			inc = path.Join(path.Dir(file), inc)
		}
		for _, f := range lp.glob(inc) {
			dirs = append(dirs, lp.confDirs(f, depth+1, files)...)
		}
	}
	return dirs
}

// glob expands a pattern whose last element may hold wildcards, inside
// the tree; matches come sorted, as glibc's glob() returns them.
func (lp *libPath) glob(pattern string) []string {
	dir, base := path.Split(pattern)
	real, fi, ok := stat(lp.fsys, dir)
	if !ok || !fi.IsDir() {
		return nil
	}
	ents, err := fs.ReadDir(lp.fsys, real)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		if m, _ := path.Match(base, e.Name()); m {
			out = append(out, path.Join(dir, e.Name()))
		}
	}
	return out
}

// muslDirs reads /etc/ld-musl-ARCH.path files; entries are separated by
// colons or newlines.
func (lp *libPath) muslDirs() []string {
	var dirs []string
	for _, f := range lp.glob("/etc/ld-musl-*.path") {
		data := readSmall(lp.fsys, f, maxConfSize)
		dirs = append(dirs, strings.FieldsFunc(string(data), func(r rune) bool { return r == ':' || r == '\n' })...)
	}
	return dirs
}

// ParseLdSoConf parses ld.so.conf syntax: one or more directories per line
// (separated by spaces, tabs, commas or colons), "include PATTERN" lines,
// "#" comments; "hwcap" lines are ignored.
func ParseLdSoConf(data []byte) (dirs, includes []string) {
	for _, line := range strings.Split(string(data), "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		fields := strings.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == '\t' || r == ',' || r == ':' || r == '\r' })
		if len(fields) == 0 {
			continue
		}
		switch fields[0] {
		case "include":
			includes = append(includes, fields[1:]...)
			continue
		case "hwcap":
			continue
		}
		for _, f := range fields {
			if d, _, _ := strings.Cut(f, "="); strings.HasPrefix(d, "/") {
				dirs = append(dirs, path.Clean(d))
			}
		}
	}
	return dirs, includes
}

// find reports whether lib (a DT_NEEDED entry) resolves for an object of
// the given class and machine. extra are its DT_RUNPATH or DT_RPATH
// entries; origin is its directory, for $ORIGIN.
func (lp *libPath) find(lib string, class elf.Class, machine elf.Machine, extra []string, origin string) bool {
	if strings.Contains(lib, "/") {
		return lp.matches(lib, class, machine)
	}
	key := fmt.Sprintf("%s\x00%d\x00%d\x00%s\x00%s", lib, class, machine, strings.Join(extra, ":"), origin)
	if ok, seen := lp.found[key]; seen {
		return ok
	}
	ok := false
	for _, d := range extra {
		if ok = lp.matches(path.Join(expandOrigin(d, origin, class), lib), class, machine); ok {
			break
		}
	}
	for i := 0; !ok && i < len(lp.dirs); i++ {
		ok = lp.matches(path.Join(lp.dirs[i], lib), class, machine)
	}
	lp.found[key] = ok
	return ok
}

// matches reports whether p is an ELF object the loader would accept for
// this class and machine.
func (lp *libPath) matches(p string, class elf.Class, machine elf.Machine) bool {
	real, fi, ok := stat(lp.fsys, p)
	if !ok || !fi.Mode().IsRegular() {
		return false
	}
	h, seen := lp.hdrs[real]
	if !seen {
		h = readHeader(lp.fsys, real)
		lp.hdrs[real] = h
	}
	return h.ok && h.class == class && h.machine == machine
}

func readHeader(fsys fs.FS, real string) (h elfHeader) {
	ra, _, err := openAt(fsys, real)
	if err != nil {
		return h
	}
	defer ra.Close()
	defer func() {
		if recover() != nil {
			h = elfHeader{}
		}
	}()
	f, err := elf.NewFile(ra)
	if err != nil {
		return h
	}
	return elfHeader{ok: true, class: f.Class, machine: f.Machine}
}

// expandOrigin substitutes the loader's $ORIGIN and $LIB tokens.
func expandOrigin(dir, origin string, class elf.Class) string {
	lib := "lib"
	if class == elf.ELFCLASS64 {
		lib = "lib64"
	}
	r := strings.NewReplacer("${ORIGIN}", "/"+origin, "$ORIGIN", "/"+origin, "${LIB}", lib, "$LIB", lib)
	return r.Replace(dir)
}
