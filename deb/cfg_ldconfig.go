package deb

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"

	"github.com/rootfsd/rootfsd/repo/fstree"
)

// ldconfig, as libc-bin's postinst and trigger run it: the directories
// of /etc/ld.so.conf (with its includes) and the system directories
// (/lib/TRIPLET, /usr/lib/TRIPLET, /lib, /usr/lib) are scanned for shared
// objects (lib*.so*, ld-*.so*), their SONAME read from the ELF dynamic
// section, missing SONAME symlinks created, and /etc/ld.so.cache written
// in glibc's format with the generator string of the tree's own ldconfig.
// A directory reached twice (bin and usr/bin on merged-/usr) counts once,
// under the name it was first reached by. ISA-level markers and
// glibc-hwcaps subdirectories are not entered (a warning says so).

// ldArch is what ldconfig needs to know about an architecture.
type ldArch struct {
	triplet string
	class   elf.Class
	machine elf.Machine
	flags   int32 // FLAG_ELF_LIBC6 | the architecture's flag
	order   binary.ByteOrder
}

var ldArches = map[string]ldArch{
	"amd64":   {"x86_64-linux-gnu", elf.ELFCLASS64, elf.EM_X86_64, 0x0303, binary.LittleEndian},
	"arm64":   {"aarch64-linux-gnu", elf.ELFCLASS64, elf.EM_AARCH64, 0x0a03, binary.LittleEndian},
	"i386":    {"i386-linux-gnu", elf.ELFCLASS32, elf.EM_386, 0x0003, binary.LittleEndian},
	"armhf":   {"arm-linux-gnueabihf", elf.ELFCLASS32, elf.EM_ARM, 0x0903, binary.LittleEndian},
	"ppc64el": {"powerpc64le-linux-gnu", elf.ELFCLASS64, elf.EM_PPC64, 0x0503, binary.LittleEndian},
	"s390x":   {"s390x-linux-gnu", elf.ELFCLASS64, elf.EM_S390, 0x0403, binary.BigEndian},
	"riscv64": {"riscv64-linux-gnu", elf.ELFCLASS64, elf.EM_RISCV, 0x1003, binary.LittleEndian},
}

// maxELFHeaderRead bounds what is read of a library to find its SONAME.
const maxELFSize = 1 << 30

// ldconfig builds /etc/ld.so.cache for the tree.
func (a *assembler) ldconfig() error {
	arch, ok := ldArches[a.arch]
	if !ok {
		a.warn("libc-bin", "ldconfig: architecture "+a.arch+" is not supported; no /etc/ld.so.cache written (the dynamic loader searches the default directories)")
		return nil
	}
	dirs := a.ldConfDirs("/etc/ld.so.conf", 0)
	dirs = append(dirs, "/lib/"+arch.triplet, "/usr/lib/"+arch.triplet, "/lib", "/usr/lib")
	gen := a.ldGenerator()
	withOSVersion := glibcBefore(gen, 2, 36)
	seen := map[string]bool{}
	var entries []ldEntry
	for _, d := range dirs {
		i, err := a.t.Stat(d)
		if err != nil || i.Kind != fstree.KindDir || seen[i.Path] {
			continue
		}
		seen[i.Path] = true
		libs, err := a.ldScanDir(d, arch)
		if err != nil {
			return err
		}
		for _, l := range libs {
			e := ldEntry{soname: l.soname, path: strings.TrimSuffix(d, "/") + "/" + l.soname, flags: arch.flags}
			if withOSVersion {
				e.osversion = l.osversion
			}
			entries = insertLDEntry(entries, e)
		}
	}
	// ldconfig keeps its auxiliary cache there (mmdebstrap removes the
	// file itself for reproducibility; so does rootfsd, by not writing it).
	if err := a.ensureDir("var/cache/ldconfig", 0o700); err != nil {
		return err
	}
	return a.replaceFile("etc/ld.so.cache", encodeLDCache(entries, gen, arch.order), 0o644, 0, 0)
}

// ldConfDirs reads an ld.so.conf file as glibc's parse_conf does: '#'
// starts a comment, "include PATTERN..." reads more files, "hwcap" lines
// are ignored, any other line is one directory (trailing slashes and a
// "=TYPE" suffix dropped; nothing else is trimmed).
func (a *assembler) ldConfDirs(file string, depth int) []string {
	data, err := a.t.ReadFile(file)
	if err != nil || depth > 8 {
		return nil
	}
	var dirs []string
	for _, line := range strings.Split(string(data), "\n") {
		line, _, _ = strings.Cut(line, "#")
		line = strings.TrimLeft(line, " \t\n\v\f\r")
		switch {
		case line == "":
		case strings.HasPrefix(line, "include") && len(line) > 7 && (line[7] == ' ' || line[7] == '\t'):
			for _, pattern := range strings.FieldsFunc(line[8:], func(r rune) bool { return r == ' ' || r == '\t' }) {
				if !strings.HasPrefix(pattern, "/") {
					pattern = path.Join(path.Dir(file), pattern)
				}
				for _, inc := range a.glob(pattern) {
					dirs = append(dirs, a.ldConfDirs(inc, depth+1)...)
				}
			}
		case len(line) > 5 && strings.EqualFold(line[:5], "hwcap") && (line[5] == ' ' || line[5] == '\t'):
		default:
			d, _, _ := strings.Cut(line, "=")
			if d = strings.TrimRight(d, "/"); d != "" {
				dirs = append(dirs, d)
			}
		}
	}
	return dirs
}

// glob expands a pattern whose last component may have wildcards, in
// byte order as glob(3) sorts in the C locale.
func (a *assembler) glob(pattern string) []string {
	dir, base := path.Split(pattern)
	var out []string
	for _, name := range a.readDir(dir) {
		if ok, _ := path.Match(base, name); ok && !strings.HasPrefix(name, ".") {
			out = append(out, dir+name)
		}
	}
	return out
}

type ldLib struct {
	name, soname string
	link         bool
	osversion    uint32
}

// ldScanDir is ldconfig's search_dir for one directory.
func (a *assembler) ldScanDir(dir string, arch ldArch) ([]ldLib, error) {
	var libs []ldLib
	for _, name := range a.readDir(dir) {
		if name == "glibc-hwcaps" {
			a.warn("libc-bin", fmt.Sprintf("ldconfig: %s/glibc-hwcaps is not entered into /etc/ld.so.cache", dir))
			continue
		}
		if !isDSOName(name) {
			continue
		}
		p := dir + "/" + name
		li, err := a.t.Lookup(p)
		if err != nil {
			continue
		}
		isLink := li.Kind == fstree.KindSymlink
		si, err := a.t.Stat(p)
		if err != nil || si.Kind != fstree.KindFile {
			continue
		}
		soname, osversion, ok := a.elfSoname(si.Path, si.Size, arch)
		if !ok {
			continue
		}
		if soname == "" {
			soname = name
		}
		// ldconfig compares the name of the link itself (basename of the
		// path it read, not of its target): a link is kept as a link when
		// it is named after the SONAME or is the ".so" link of ld(1).
		if isLink && name != soname && (!strings.HasSuffix(name, ".so") || !strings.HasPrefix(soname, name)) {
			isLink = false
		}
		if isLink {
			soname = name
		}
		found := false
		for k := range libs {
			if libs[k].soname != soname {
				continue
			}
			found = true
			if !isLink && libs[k].link || isLink == libs[k].link && ldLibCmp(libs[k].name, name) < 0 {
				libs[k].name, libs[k].link, libs[k].osversion = name, isLink, osversion
			}
			break
		}
		if !found {
			libs = append(libs, ldLib{name: name, soname: soname, link: isLink, osversion: osversion})
		}
	}
	for _, l := range libs {
		if !l.link {
			if err := a.ldCreateLink(dir, l.name, l.soname); err != nil {
				return nil, err
			}
		}
	}
	return libs, nil
}

// isDSOName is glibc's _dl_is_dso.
func isDSOName(name string) bool {
	return (strings.HasPrefix(name, "lib") || strings.HasPrefix(name, "ld-")) && strings.Contains(name, ".so") ||
		strings.HasPrefix(name, "ld.so.") || strings.HasPrefix(name, "ld64.so.")
}

// ldCreateLink is ldconfig's create_links: soname -> name in dir when
// soname does not already lead to the same file.
func (a *assembler) ldCreateLink(dir, name, soname string) error {
	if name == soname {
		return nil
	}
	lib, so := dir+"/"+name, dir+"/"+soname
	if si, err := a.t.Stat(so); err == nil {
		li, err := a.t.Stat(lib)
		if err != nil || li.Path == si.Path {
			return nil
		}
		if l, err := a.t.Lookup(so); err == nil && l.Kind != fstree.KindSymlink {
			return nil // "is not a symbolic link"
		}
	}
	return a.replaceSymlink(name, so)
}

// elfSoname reads the DT_SONAME of a shared object of the architecture;
// ok is false for anything else (other class or machine, not ELF, no
// dynamic section).
func (a *assembler) elfSoname(p string, size int64, arch ldArch) (string, uint32, bool) {
	if size < 64 || size > maxELFSize {
		return "", 0, false
	}
	r, err := a.t.Open(p)
	if err != nil {
		return "", 0, false
	}
	return readSoname(r, arch)
}

// readSoname parses an ELF file with debug/elf, recovering from any
// panic the parser may have on hostile input. osversion is the kernel
// version of the NT_GNU_ABI_TAG note ((major<<16)|(minor<<8)|patch, the
// OS in the top byte), which glibc before 2.36 stored in the cache.
func readSoname(r io.ReaderAt, arch ldArch) (soname string, osversion uint32, ok bool) {
	defer func() {
		if recover() != nil {
			soname, osversion, ok = "", 0, false
		}
	}()
	var magic [4]byte
	if _, err := r.ReadAt(magic[:], 0); err != nil || !bytes.Equal(magic[:], []byte(elf.ELFMAG)) {
		return "", 0, false
	}
	f, err := elf.NewFile(r)
	if err != nil || f.Class != arch.class || f.Machine != arch.machine || f.Type != elf.ET_DYN {
		return "", 0, false
	}
	osversion = abiTag(f)
	names, err := f.DynString(elf.DT_SONAME)
	if err != nil {
		return "", 0, false
	}
	if len(names) == 0 {
		return "", osversion, true
	}
	return names[0], osversion, true
}

// abiTag reads the NT_GNU_ABI_TAG note of the first PT_NOTE segment that
// has one, as glibc's readelflib does.
func abiTag(f *elf.File) uint32 {
	for _, p := range f.Progs {
		if p.Type != elf.PT_NOTE || p.Filesz < 32 || p.Align < 4 || p.Filesz > 1<<20 {
			continue
		}
		data := make([]byte, p.Filesz)
		if _, err := p.ReadAt(data, 0); err != nil {
			continue
		}
		align := uint64(4)
		if p.Align == 8 {
			align = 8
		}
		for len(data) >= 12 {
			namesz, descsz, typ := f.ByteOrder.Uint32(data), f.ByteOrder.Uint32(data[4:]), f.ByteOrder.Uint32(data[8:])
			nameEnd := 12 + (uint64(namesz)+align-1)&^(align-1)
			end := nameEnd + (uint64(descsz)+align-1)&^(align-1)
			if end > uint64(len(data)) {
				break
			}
			if namesz == 4 && descsz == 16 && typ == 1 && string(data[12:16]) == "GNU\x00" {
				w := func(i int) uint32 { return f.ByteOrder.Uint32(data[nameEnd+uint64(4*i):]) }
				return w(0)<<24 | (w(1)&0xff)<<16 | (w(2)&0xff)<<8 | w(3)&0xff
			}
			data = data[end:]
		}
	}
	return 0
}

// ldGenerator finds the generator string in the tree's ldconfig binary.
func (a *assembler) ldGenerator() string {
	for _, p := range []string{"sbin/ldconfig.real", "usr/sbin/ldconfig.real", "sbin/ldconfig", "usr/sbin/ldconfig"} {
		i, err := a.t.Stat(p)
		if err != nil || i.Kind != fstree.KindFile || i.Size > 64<<20 {
			continue
		}
		data, err := a.t.ReadFile(p)
		if err != nil {
			continue
		}
		for off := 0; ; {
			k := bytes.Index(data[off:], []byte("ldconfig ("))
			if k < 0 {
				break
			}
			start := off + k
			end := bytes.IndexByte(data[start:], 0)
			if end > 0 && end < 256 && bytes.Contains(data[start:start+end], []byte(" release version ")) {
				return string(data[start : start+end])
			}
			off = start + 1
		}
	}
	a.warn("libc-bin", "ldconfig: the generator string was not found in the tree's ldconfig; /etc/ld.so.cache names a generic generator")
	return "ldconfig"
}

// glibcBefore reports whether a generator string ("... release version
// 2.35") names a glibc older than major.minor.
func glibcBefore(gen string, major, minor int) bool {
	_, v, ok := strings.Cut(gen, " release version ")
	if !ok {
		return false
	}
	maj, min, _ := strings.Cut(v, ".")
	mj, err1 := strconv.Atoi(maj)
	mn, err2 := strconv.Atoi(strings.TrimRightFunc(min, func(r rune) bool { return r < '0' || r > '9' }))
	if err1 != nil || err2 != nil {
		return false
	}
	return mj < major || mj == major && mn < minor
}
