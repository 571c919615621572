package check

import (
	"context"
	"debug/elf"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
)

// hostLibDirs are where the host's loader finds libraries; tests copy real
// programs and their libraries from there into small trees.
var hostLibDirs = []string{"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib"}

// hostTree builds a merged-/usr tree holding the host's programs (by
// absolute path) with their interpreter and libraries, as a rootfs would
// hold them: /bin, /lib and /lib64 are absolute symlinks into /usr, so a
// resolver that followed them on the host would find the host's files.
func hostTree(t *testing.T, progs ...string) string {
	t.Helper()
	root := t.TempDir()
	for _, d := range []string{"usr/bin", "usr/lib", "usr/lib64", "etc", "tmp"} {
		must(t, os.MkdirAll(filepath.Join(root, d), 0o755))
	}
	must(t, os.Chmod(filepath.Join(root, "tmp"), 0o777|os.ModeSticky))
	for _, l := range []string{"bin", "lib", "lib64", "sbin"} {
		must(t, os.Symlink("/usr/"+l, filepath.Join(root, l)))
	}
	must(t, os.MkdirAll(filepath.Join(root, "usr/sbin"), 0o755))
	must(t, os.WriteFile(filepath.Join(root, "etc/os-release"), []byte("ID=debian\nVERSION_ID=\"12\"\n"), 0o644))
	seen := map[string]bool{}
	var copyELF func(host, dest string)
	copyELF = func(host, dest string) {
		if seen[dest] {
			return
		}
		seen[dest] = true
		real, err := filepath.EvalSymlinks(host)
		if err != nil {
			t.Skipf("host lacks %s: %v", host, err)
		}
		data, err := os.ReadFile(real)
		if err != nil {
			t.Skipf("host: %v", err)
		}
		dest = usrPath(dest)
		must(t, os.MkdirAll(filepath.Join(root, path.Dir(dest)), 0o755))
		must(t, os.WriteFile(filepath.Join(root, dest), data, 0o755))
		f, err := elf.Open(real)
		if err != nil {
			t.Skipf("host %s is not ELF: %v", real, err)
		}
		defer f.Close()
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				b := make([]byte, p.Filesz)
				p.ReadAt(b, 0)
				interp := strings.TrimRight(string(b), "\x00")
				copyELF(interp, interp)
			}
		}
		libs, _ := f.ImportedLibraries()
		for _, lib := range libs {
			found := false
			for _, d := range hostLibDirs {
				if _, err := os.Stat(filepath.Join(d, lib)); err == nil {
					copyELF(filepath.Join(d, lib), filepath.Join(d, lib))
					found = true
					break
				}
			}
			if !found {
				t.Skipf("host library %s of %s not found", lib, host)
			}
		}
	}
	for _, p := range progs {
		copyELF(p, p)
	}
	return root
}

// usrPath maps /lib/x, /bin/x, /lib64/x into /usr, as merged-/usr does.
func usrPath(p string) string {
	p = strings.TrimPrefix(p, "/")
	for _, l := range []string{"bin/", "lib/", "lib64/", "sbin/"} {
		if strings.HasPrefix(p, l) {
			return "usr/" + p
		}
	}
	return p
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func write(t *testing.T, root, p, data string, mode os.FileMode) {
	t.Helper()
	full := filepath.Join(root, p)
	must(t, os.MkdirAll(filepath.Dir(full), 0o755))
	must(t, os.WriteFile(full, []byte(data), mode))
}

func runDir(t *testing.T, root string, opts Options) []Finding {
	t.Helper()
	tg, err := Load(context.Background(), root, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	if opts.Config == nil {
		opts.Config = tg.Config
	}
	fs, err := Run(context.Background(), tg.FS, opts)
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

func byKind(fs []Finding, k Kind) []Finding {
	var out []Finding
	for _, f := range fs {
		if f.Kind == k {
			out = append(out, f)
		}
	}
	return out
}

// findLib returns the tree path of a library the tree holds.
func findLib(t *testing.T, root, name string) string {
	t.Helper()
	var found string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Name() == name && found == "" {
			found = p
		}
		return nil
	})
	if found == "" {
		t.Fatalf("%s not in the tree", name)
	}
	return found
}
