package check

import (
	"bytes"
	"debug/elf"
	"fmt"
	"io"
	"io/fs"
	"path"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
)

// skipDirs are not searched for programs: debug symbol files are ELF
// objects without a usable dynamic section, and the pseudo filesystems are
// empty in a rootfs.
var skipDirs = map[string]bool{"proc": true, "sys": true, "dev": true, "usr/lib/debug": true}

// elfInfo is what check needs from one ELF file.
type elfInfo struct {
	class   elf.Class
	machine elf.Machine
	interp  string
	needed  []string
	rpath   []string // DT_RPATH, used only without DT_RUNPATH
	runpath []string
	isGo    bool
	// goTLS and goTZ: a Go program that speaks TLS, one that loads
	// timezones from the system (no embedded tzdata).
	goTLS, goTZ bool
}

// scanFiles walks every regular file, checks ELF programs and libraries,
// and notes which files speak TLS or load timezones.
func (c *checker) scanFiles() error {
	var progs []string
	err := fs.WalkDir(c.fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == "." {
				return err
			}
			return nil // unreadable subtrees are not this check's concern
		}
		if cerr := c.ctx.Err(); cerr != nil {
			return cerr
		}
		if d.IsDir() {
			if skipDirs[p] {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		if isTLSLibrary(path.Base(p)) {
			c.tlsUsers = append(c.tlsUsers, p)
		}
		progs = append(progs, p)
		return nil
	})
	if err != nil {
		return fmt.Errorf("check: walk tree: %w", err)
	}
	// Reading the ELF headers is most of the cost and independent per
	// file: a few readers go ahead; the checks, which record findings,
	// stay in order.
	infos := make([]*elfInfo, len(progs))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), 4) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(progs) || c.ctx.Err() != nil {
					return
				}
				infos[i] = readELF(c.fsys, progs[i])
			}
		})
	}
	wg.Wait()
	if err := c.ctx.Err(); err != nil {
		return err
	}
	lp := newLibPath(c.fsys, c.opts.Config)
	for i, p := range progs {
		info := infos[i]
		if info == nil {
			continue
		}
		c.elfCount++
		if info.goTLS {
			c.tlsUsers = append(c.tlsUsers, p)
		}
		if info.goTZ {
			c.tzUsers = append(c.tzUsers, p)
		}
		c.checkELF(lp, p, info)
	}
	return nil
}

// readELF parses p if it is an ELF executable or shared object; nil
// otherwise. It only reads fsys, so several may run at once.
func readELF(fsys fs.ReadLinkFS, p string) (info *elfInfo) {
	ra, size, err := openAt(fsys, p)
	if err != nil {
		return nil
	}
	defer ra.Close()
	var magic [4]byte
	if _, err := ra.ReadAt(magic[:], 0); err != nil || string(magic[:]) != elf.ELFMAG {
		return nil
	}
	defer func() {
		// debug/elf is not guaranteed to survive hostile input.
		if r := recover(); r != nil {
			info = nil
		}
	}()
	f, err := elf.NewFile(ra)
	if err != nil || (f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN) {
		return nil
	}
	info = &elfInfo{class: f.Class, machine: f.Machine}
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP && prog.Filesz > 0 && prog.Filesz < 4096 {
			b := make([]byte, prog.Filesz)
			if _, err := prog.ReadAt(b, 0); err == nil {
				info.interp = string(bytes.TrimRight(b, "\x00"))
			}
		}
	}
	info.needed, _ = f.ImportedLibraries()
	if rp, err := f.DynString(elf.DT_RUNPATH); err == nil {
		info.runpath = splitList(strings.Join(rp, ":"))
	}
	if rp, err := f.DynString(elf.DT_RPATH); err == nil {
		info.rpath = splitList(strings.Join(rp, ":"))
	}
	if f.Section(".go.buildinfo") != nil {
		info.isGo = true
		info.goTLS, info.goTZ = scanGo(ra, size)
	}
	return info
}

// checkELF reports an unresolved interpreter or DT_NEEDED library.
func (c *checker) checkELF(lp *libPath, p string, info *elfInfo) {
	if info.interp != "" {
		if _, fi, ok := stat(c.fsys, info.interp); !ok || !fi.Mode().IsRegular() {
			c.add(Finding{Kind: MissingInterpreter, Severity: Error, Missing: info.interp}, p)
		}
	}
	dirs := info.runpath
	if len(dirs) == 0 {
		dirs = info.rpath
	}
	origin := dirOf(p)
	for _, lib := range info.needed {
		if !lp.find(lib, info.class, info.machine, dirs, origin) {
			c.add(Finding{Kind: MissingLibrary, Severity: Error, Missing: lib}, p)
		}
	}
}

// Strings the Go linker keeps (in the function name table, even in
// stripped binaries) when a program links the code that uses them.
const (
	goTLSMarker      = "crypto/tls.(*Conn).Handshake"
	goTZMarker       = "time.LoadLocation"
	goTZDataEmbedded = "time/tzdata.loadFromEmbeddedTZData"
)

// scanGo notes a Go program that makes TLS connections, or loads
// timezones without the embedded time/tzdata.
func scanGo(ra io.ReaderAt, size int64) (tls, tz bool) {
	markers := []string{goTLSMarker, goTZMarker, goTZDataEmbedded}
	found := map[string]bool{}
	const chunk, overlap = 1 << 20, 64
	buf := make([]byte, chunk+overlap)
	for off := int64(0); off < size; off += chunk {
		n, err := ra.ReadAt(buf, off)
		if n == 0 && err != nil {
			break
		}
		for _, m := range markers {
			if !found[m] && bytes.Contains(buf[:n], []byte(m)) {
				found[m] = true
			}
		}
	}
	return found[goTLSMarker], found[goTZMarker] && !found[goTZDataEmbedded]
}

// isTLSLibrary reports the shared libraries of the common TLS stacks.
func isTLSLibrary(base string) bool {
	for _, prefix := range []string{"libssl.so.", "libgnutls.so.", "libnss3.so", "libmbedtls.so.", "libwolfssl.so.", "libtls.so."} {
		if strings.HasPrefix(base, prefix) {
			return true
		}
	}
	return false
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ':' || r == ';' }) {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
