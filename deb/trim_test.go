package deb

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rootfsd/rootfsd/deb/internal/debtest"
	"github.com/rootfsd/rootfsd/repo/fstree"
)

func TestFnmatch(t *testing.T) {
	cases := []struct {
		pattern, name string
		want          bool
	}{
		{"/usr/share/doc/*", "/usr/share/doc/foo/copyright", true}, // * spans slashes
		{"/usr/share/doc/*", "/usr/share/doc", false},
		{"/usr/share/doc/*", "/usr/share/doc/", true},
		{"/usr/share/doc/*/copyright", "/usr/share/doc/foo/copyright", true},
		{"/usr/share/doc/*/copyright", "/usr/share/doc/foo/bar/copyright", true},
		{"/usr/share/doc/*/copyright", "/usr/share/doc/foo/copyright.gz", false},
		{"/usr/share/locale/*/LC_MESSAGES/*.mo", "/usr/share/locale/de/LC_MESSAGES/dpkg.mo", true},
		{"/a?c", "/abc", true},
		{"/a?c", "/a/c", true},
		{"/a?c", "/ac", false},
		{"/[abc]x", "/bx", true},
		{"/[!abc]x", "/bx", false},
		{"/[^abc]x", "/dx", true},
		{"/[a-c]x", "/cx", true},
		{"/[]]x", "/]x", true},
		{"/[a-]x", "/-x", true},
		{"/[x", "/[x", true}, // an unclosed bracket is literal
		{`/a\*b`, "/a*b", true},
		{`/a\*b`, "/axb", false},
		{"*", "", true},
		{"", "", true},
		{"**/x", "/a/b/x", true},
		{"*a*b*c", "xxaxxbxxcxx", false},
		{"*a*b*c", "xxaxxbxxc", true},
	}
	for _, c := range cases {
		if got := fnmatch(c.pattern, c.name); got != c.want {
			t.Errorf("fnmatch(%q, %q) = %v, want %v", c.pattern, c.name, got, c.want)
		}
	}
}

func TestFilterSkips(t *testing.T) {
	rules, _ := trimRules("minimal")
	cases := []struct {
		path string
		kind fstree.Kind
		want bool
	}{
		{"/usr/share/doc/foo/README", fstree.KindFile, true},
		{"/usr/share/doc/foo/copyright", fstree.KindFile, false},
		{"/usr/share/doc/foo", fstree.KindDir, false},     // reincluded: a copyright may live below
		{"/usr/share/doc/foo", fstree.KindSymlink, false}, // as dpkg keeps symlinks to docs dirs
		// dpkg keeps every directory and symlink whose path starts with the
		// part of an include pattern before its first wildcard.
		{"/usr/share/doc/foo/changelog.gz", fstree.KindSymlink, false},
		{"/usr/share/doc", fstree.KindDir, false},
		{"/usr/share/man/man1/ls.1.gz", fstree.KindFile, true},
		{"/usr/share/man/man1", fstree.KindDir, true},
		{"/usr/share/man", fstree.KindDir, false},
		{"/usr/share/locale/de/LC_MESSAGES/x.mo", fstree.KindFile, true},
		{"/usr/share/locale/locale.alias", fstree.KindFile, false},
		{"/usr/lib/locale/C.utf8/LC_CTYPE", fstree.KindFile, false},
		{"/usr/lib/locale/C.utf8", fstree.KindDir, false},
		{"/usr/lib/locale/de_DE.utf8/LC_CTYPE", fstree.KindFile, true},
		{"/usr/bin/ls", fstree.KindFile, false},
	}
	for _, c := range cases {
		if got := filterSkips(rules, c.path, c.kind); got != c.want {
			t.Errorf("skip %s (%s) = %v, want %v", c.path, c.kind, got, c.want)
		}
	}
}

func TestTrimProfiles(t *testing.T) {
	pkg := debtest.Deb{Package: "tool", Data: append(asmDirs("usr/bin", "usr/share/doc/tool", "usr/share/man/man1",
		"usr/share/locale/de/LC_MESSAGES", "usr/share/info", "usr/lib/locale/C.utf8", "usr/lib/locale/de_DE.utf8"),
		asmFile("./usr/bin/tool", "ELF"),
		asmFile("./usr/share/doc/tool/copyright", "GPL"),
		asmFile("./usr/share/doc/tool/changelog.Debian.gz", "log"),
		asmFile("./usr/share/man/man1/tool.1.gz", "man"),
		asmFile("./usr/share/info/tool.info.gz", "info"),
		asmFile("./usr/share/locale/de/LC_MESSAGES/tool.mo", "mo"),
		asmFile("./usr/lib/locale/C.utf8/LC_CTYPE", "C"),
		asmFile("./usr/lib/locale/de_DE.utf8/LC_CTYPE", "de"))}
	files := func(tr *fstree.Tree) []string {
		var out []string
		tr.Walk(func(i fstree.Info) error {
			if i.Kind == fstree.KindFile && strings.HasPrefix(i.Path, "usr/") && !strings.HasPrefix(i.Path, "usr/lib/os-release") {
				out = append(out, i.Path)
			}
			return nil
		})
		return out
	}
	all := []string{"usr/bin/tool", "usr/lib/locale/C.utf8/LC_CTYPE", "usr/lib/locale/de_DE.utf8/LC_CTYPE",
		"usr/share/doc/tool/changelog.Debian.gz", "usr/share/doc/tool/copyright", "usr/share/info/tool.info.gz",
		"usr/share/locale/de/LC_MESSAGES/tool.mo", "usr/share/man/man1/tool.1.gz"}
	cases := []struct {
		trim string
		want []string
	}{
		{"none", all},
		{"", []string{"usr/bin/tool", "usr/lib/locale/C.utf8/LC_CTYPE", "usr/share/doc/tool/copyright"}},
		{"minimal", []string{"usr/bin/tool", "usr/lib/locale/C.utf8/LC_CTYPE", "usr/share/doc/tool/copyright"}},
	}
	for _, c := range cases {
		t.Run(trimName(c.trim), func(t *testing.T) {
			plan, open := debtest.Plan(t, nil, pkg)
			tr := fstree.New(fstree.Options{TempDir: t.TempDir()})
			defer tr.Close()
			if _, err := Assemble(t.Context(), tr, plan, open, AssembleOptions{Trim: c.trim}); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(c.want, files(tr)); diff != "" {
				t.Errorf("files (-want +got):\n%s", diff)
			}
			// Trimmed paths stay in the package's list, as dpkg keeps
			// filtered paths in its lists.
			if l := readTree(t, tr, "var/lib/dpkg/info/tool.list"); !strings.Contains(l, "/usr/share/man/man1/tool.1.gz\n") {
				t.Errorf("tool.list:\n%s", l)
			}
			cfg, err := tr.ReadFile("etc/dpkg/dpkg.cfg.d/rootfsd-trim")
			if c.trim == "none" {
				if err == nil {
					t.Error("trim none writes no dpkg configuration")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(cfg), "path-exclude=/usr/share/doc/*\npath-include=/usr/share/doc/*/copyright\n") {
				t.Errorf("dpkg.cfg.d:\n%s", cfg)
			}
			if _, err := tr.Lookup("usr/share/man/man1"); err == nil {
				t.Error("usr/share/man/man1 stayed")
			}
			if _, err := tr.Lookup("usr/share/man"); err != nil {
				t.Error("usr/share/man went, dpkg keeps it (the pattern excludes what is below)")
			}
		})
	}
}

func FuzzFnmatch(f *testing.F) {
	f.Add("/usr/share/doc/*/copyright", "/usr/share/doc/x/copyright")
	f.Add("[!a-c]*?\\", "b")
	f.Add("*[", "x[")
	f.Fuzz(func(t *testing.T, pattern, name string) {
		if len(pattern) > 64 || len(name) > 256 {
			return
		}
		got := fnmatch(pattern, name)
		// A pattern without special characters matches only itself.
		if !strings.ContainsAny(pattern, "*?[\\") && got != (pattern == name) {
			t.Fatalf("literal %q vs %q: %v", pattern, name, got)
		}
		if pattern == "*" && !got {
			t.Fatalf("* must match %q", name)
		}
	})
}

func TestTrimCaches(t *testing.T) {
	apt := debtest.Deb{Package: "aptish", Data: append(asmDirs("var/cache/apt/archives/partial", "var/lib/apt/lists/partial", "var/log"),
		asmFile("./var/cache/apt/pkgcache.bin", "cache"), asmFile("./var/cache/apt/archives/x.deb", "deb"),
		asmFile("./var/lib/apt/lists/lock", ""), asmFile("./var/lib/apt/lists/mirror_dists_InRelease", "list"),
		asmFile("./var/log/dpkg.log", "log"))}
	for trim, gone := range map[string][]string{
		"none":    {"var/log/dpkg.log"},
		"minimal": {"var/log/dpkg.log", "var/cache/apt/pkgcache.bin", "var/cache/apt/archives/x.deb", "var/lib/apt/lists/mirror_dists_InRelease"},
	} {
		tr, _ := mustAssemble(t, AssembleOptions{Trim: trim}, apt)
		for _, p := range gone {
			if _, err := tr.Lookup(p); err == nil {
				t.Errorf("trim %s kept %s", trim, p)
			}
		}
		for _, p := range []string{"var/lib/apt/lists/lock", "var/lib/apt/lists/partial", "var/cache/apt/archives/partial"} {
			if _, err := tr.Lookup(p); err != nil {
				t.Errorf("trim %s: %v", trim, err)
			}
		}
	}
}

func TestTrimRules(t *testing.T) {
	none, err := TrimRules("none")
	if err != nil || len(none) != 0 {
		t.Errorf("none: %v %v", none, err)
	}
	docs, err := TrimRules("")
	if err != nil || len(docs) == 0 || docs[0] != "path-exclude=/usr/share/doc/*" {
		t.Errorf("docs: %v %v", docs, err)
	}
	if _, err := TrimRules("everything"); err == nil || !strings.Contains(err.Error(), "none, docs, minimal") {
		t.Errorf("unknown profile: %v", err)
	}
}
