package deb

import (
	"bytes"
	"fmt"
	"regexp"

	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rootfsd/rootfsd/deb/internal/debtest"
)

// hostFile reads a file of the host, or skips the test.
func hostFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Skipf("host file %s: %v", p, err)
	}
	return string(b)
}

// TestLdconfigMatchesHost builds a tree of the host's own libraries and
// ldconfig binary and checks that the cache rootfsd writes is byte for byte
// the one the host's ldconfig -r writes for the same tree, and that both
// create the same missing SONAME links.
func TestLdconfigMatchesHost(t *testing.T) {
	if runtime.GOARCH != "amd64" || os.Geteuid() != 0 {
		t.Skip("needs an amd64 host and root (ldconfig -r chroots)")
	}
	ldconfig, err := exec.LookPath("ldconfig")
	if err != nil {
		ldconfig = "/sbin/ldconfig"
	}
	const lib = "/usr/lib/x86_64-linux-gnu/"
	multi := "./usr/lib/x86_64-linux-gnu/"
	libc := debtest.Deb{Package: "libc6", Version: "2.36", Control: "Package: libc6\nVersion: 2.36\nArchitecture: amd64\nMulti-Arch: same\n",
		Data: append(asmDirs("usr/lib/x86_64-linux-gnu/extra", "usr/lib64", "etc/ld.so.conf.d"),
			asmLink("./lib", "usr/lib"), asmLink("./lib64", "usr/lib64"),
			asmMode(multi+"ld-linux-x86-64.so.2", hostFile(t, lib+"ld-linux-x86-64.so.2"), 0o755),
			asmLink("./usr/lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"),
			asmMode(multi+"libc.so.6", hostFile(t, lib+"libc.so.6"), 0o755),
			asmFile(multi+"libm.so.6", hostFile(t, lib+"libm.so.6")),
			asmFile(multi+"libpthread.so.0", hostFile(t, lib+"libpthread.so.0")),
			asmFile(multi+"libz.so.1.2.13", hostFile(t, lib+"libz.so.1.2.13")),
			asmLink(multi+"libz.so.1", "libz.so.1.2.13"),
			asmLink(multi+"libz.so", "/lib/x86_64-linux-gnu/libz.so.1.2.13"),
			asmFile(multi+"libbz2.so.1.0.4", hostFile(t, lib+"libbz2.so.1.0.4")),
			asmLink(multi+"libbz2.so.1.0", "libbz2.so.1.0.4"),
			asmFile(multi+"libnotelf.so.1", "/* GNU ld script */\n"),
			asmLink(multi+"libdangling.so.3", "libgone.so.3"),
			// Only the real file: ldconfig makes the libz.so.1 link.
			asmFile(multi+"extra/libz.so.1.2.13", hostFile(t, lib+"libz.so.1.2.13")),
			asmFile("./etc/ld.so.conf.d/x86_64-linux-gnu.conf", "# Multiarch support\n/usr/local/lib/x86_64-linux-gnu\n/lib/x86_64-linux-gnu\n/usr/lib/x86_64-linux-gnu\n"),
			asmFile("./etc/ld.so.conf.d/zz-extra.conf", "/usr/lib/x86_64-linux-gnu/extra//\n/nonexistent\n  /usr/lib/x86_64-linux-gnu=libc6\n/usr/lib/x86_64-linux-gnu/extra, /x\n"),
			asmFile("./etc/ld.so.conf", "include /etc/ld.so.conf.d/*.conf\n\n"))}
	libcBin := debtest.Deb{Package: "libc-bin", Data: append(asmDirs("usr/sbin"), asmMode("./usr/sbin/ldconfig", hostFile(t, ldconfig), 0o755))}
	tr, res := mustAssemble(t, AssembleOptions{}, libc, libcBin)
	if w := realWarnings(res); len(w) > 0 {
		t.Errorf("warnings: %v", w)
	}
	ours := readTree(t, tr, "etc/ld.so.cache")
	if i := lookup(t, tr, "usr/lib/x86_64-linux-gnu/extra/libz.so.1"); i.Target != "libz.so.1.2.13" {
		t.Errorf("ldconfig's link: %+v", i)
	}
	// The host's ldconfig on the same tree, without rootfsd's cache and link.
	root := writeOut(t, tr)
	os.Remove(filepath.Join(root, "etc/ld.so.cache"))
	os.Remove(filepath.Join(root, "usr/lib/x86_64-linux-gnu/extra/libz.so.1"))
	if out, err := exec.Command(ldconfig, "-r", root).CombinedOutput(); err != nil {
		t.Fatalf("ldconfig -r: %v\n%s", err, out)
	}
	theirs, err := os.ReadFile(filepath.Join(root, "etc/ld.so.cache"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal([]byte(ours), theirs) {
		t.Errorf("ld.so.cache differs from the host's ldconfig:\nours:   %q\ntheirs: %q", ldEntries(t, []byte(ours)), ldEntries(t, theirs))
	}
	if target, err := os.Readlink(filepath.Join(root, "usr/lib/x86_64-linux-gnu/extra/libz.so.1")); err != nil || target != "libz.so.1.2.13" {
		t.Errorf("the host's ldconfig made %q, %v", target, err)
	}
}

// ldEntries decodes a cache for error messages.
func ldEntries(t *testing.T, b []byte) []string {
	if len(b) < ldCacheHeader {
		return nil
	}
	n := int(binary.LittleEndian.Uint32(b[20:]))
	str := func(off uint32) string {
		if int(off) >= len(b) {
			return "?"
		}
		end := bytes.IndexByte(b[off:], 0)
		if end < 0 {
			return "?"
		}
		return string(b[off : int(off)+end])
	}
	var out []string
	for i := 0; i < n && ldCacheHeader+ldCacheEntry*(i+1) <= len(b); i++ {
		e := b[ldCacheHeader+ldCacheEntry*i:]
		out = append(out, str(binary.LittleEndian.Uint32(e[4:]))+"="+str(binary.LittleEndian.Uint32(e[8:])))
	}
	return out
}

func TestLdLibCmp(t *testing.T) {
	cases := []struct {
		a, b string
		sign int
	}{
		{"libc.so.6", "libc.so.6", 0},
		{"libz.so.10", "libz.so.9", 1},
		{"libz.so.1", "libz.so.1.2", -1},
		{"liba.so", "libb.so", -1},
		{"lib2", "libx", 1}, // digits sort after everything else
		{"libx", "lib2", -1},
		{"libfoo-2.0.so", "libfoo-10.so", -1},
		{"abc", "ab", 1},
	}
	for _, c := range cases {
		if got := ldLibCmp(c.a, c.b); sign(got) != c.sign {
			t.Errorf("ldLibCmp(%q, %q) = %d, want sign %d", c.a, c.b, got, c.sign)
		}
	}
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

func TestLdStringsTailMerge(t *testing.T) {
	table, off := ldStrings([]string{"libz.so.1", "/lib/libz.so.1", "libc.so.6", "/lib/libc.so.6", "libz.so.1"})
	want := "/lib/libc.so.6\x00/lib/libz.so.1\x00"
	if diff := cmp.Diff(want, string(table)); diff != "" {
		t.Errorf("table (-want +got):\n%s", diff)
	}
	if off["libz.so.1"] != off["/lib/libz.so.1"]+5 || off["libc.so.6"] != 5 {
		t.Errorf("offsets %v", off)
	}
}

func FuzzReadSoname(f *testing.F) {
	if b, err := os.ReadFile("/usr/lib/x86_64-linux-gnu/libz.so.1.2.13"); err == nil && len(b) > 4096 {
		f.Add(b[:4096])
	}
	f.Add([]byte("\x7fELF\x02\x01\x01\x00"))
	f.Add([]byte("not an ELF file at all"))
	arch := ldArches["amd64"]
	f.Fuzz(func(t *testing.T, data []byte) {
		readSoname(bytes.NewReader(data), arch)

	})
}

// TestABITag reads the kernel version note of the host's C library and
// compares it with readelf's.
func TestABITag(t *testing.T) {
	lib := "/usr/lib/x86_64-linux-gnu/libc.so.6"
	if _, err := exec.LookPath("readelf"); err != nil || runtime.GOARCH != "amd64" {
		t.Skip("needs readelf on an amd64 host")
	}
	out, err := exec.Command("readelf", "-n", lib).Output()
	if err != nil {
		t.Skip(err)
	}
	m := regexp.MustCompile(`OS: Linux, ABI: (\d+)\.(\d+)\.(\d+)`).FindStringSubmatch(string(out))
	if m == nil {
		t.Skip("no ABI tag in the host's libc")
	}
	f, err := os.Open(lib)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, got, ok := readSoname(f, ldArches["amd64"])
	want := fmt.Sprintf("%s.%s.%s", m[1], m[2], m[3])
	if !ok || fmt.Sprintf("%d.%d.%d", got>>16&0xff, got>>8&0xff, got&0xff) != want {
		t.Errorf("osversion %#x, readelf says %s", got, want)
	}
	if !glibcBefore("ldconfig (Ubuntu GLIBC 2.35-0ubuntu3) stable release version 2.35", 2, 36) ||
		glibcBefore("ldconfig (Debian GLIBC 2.36-9) stable release version 2.36", 2, 36) || glibcBefore("ldconfig", 2, 36) {
		t.Error("glibcBefore")
	}
}
