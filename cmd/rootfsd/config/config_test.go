package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func writeConfig(t *testing.T, dir, text string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func TestLayering(t *testing.T) {
	root := t.TempDir()
	vendor := writeConfig(t, filepath.Join(root, "usr"), "# vendor\nformat = \"json\"\n\n[build]\ntrim = \"minimal\"\narch = \"arm64\"\n")
	admin := writeConfig(t, filepath.Join(root, "etc"), "mirror = \"http://mirror.example/debian\"\n[build]\n  arch = \"amd64\"\n  components = [\"main\", \"contrib\"]\n")
	user := writeConfig(t, filepath.Join(root, "home"), "build.with-recommends = true\nmirror = \"http://user.example/debian\"\n")
	extra := filepath.Join(root, "extra.toml")
	if err := os.WriteFile(extra, []byte("offline = true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(Options{
		Dirs:      []string{filepath.Join(root, "usr"), filepath.Join(root, "etc"), filepath.Join(root, "missing"), filepath.Join(root, "home")},
		LookupEnv: env(map[string]string{"ROOTFSD_CONFIG": extra, "ROOTFSD_TRIM": "none", "ROOTFSD_KEYRINGS": "/k1.gpg, /k2.gpg", "ROOTFSD_SOCKET": ""}),
	})
	if err != nil {
		t.Fatal(err)
	}
	c.SetFlag("mirror", "http://flag.example/debian", "mirror")
	got := map[string]Value{}
	for _, v := range c.Values() {
		got[v.Key] = v
	}
	want := map[string]Value{
		"format":                {Key: "format", Value: "json", Source: SourceFile, Origin: vendor + ":2"},
		"build.trim":            {Key: "build.trim", Value: "none", Source: SourceEnv, Origin: "ROOTFSD_TRIM", Overrides: []string{vendor + ":5"}},
		"build.arch":            {Key: "build.arch", Value: "amd64", Source: SourceFile, Origin: admin + ":3", Overrides: []string{vendor + ":6"}},
		"build.components":      {Key: "build.components", Value: []string{"main", "contrib"}, Source: SourceFile, Origin: admin + ":4"},
		"build.with-recommends": {Key: "build.with-recommends", Value: true, Source: SourceFile, Origin: user + ":1"},
		"mirror":                {Key: "mirror", Value: "http://flag.example/debian", Source: SourceFlag, Origin: "--mirror", Overrides: []string{admin + ":1", user + ":2"}},
		"offline":               {Key: "offline", Value: true, Source: SourceFile, Origin: extra + ":1"},
		"keyrings":              {Key: "keyrings", Value: []string{"/k1.gpg", "/k2.gpg"}, Source: SourceEnv, Origin: "ROOTFSD_KEYRINGS"},
		"socket":                {Key: "socket", Value: "", Source: SourceDefault},
		"daemon":                {Key: "daemon", Value: "auto", Source: SourceDefault},
	}
	for k, w := range want {
		if d := cmp.Diff(w, got[k]); d != "" {
			t.Errorf("%s (-want +got):\n%s", k, d)
		}
	}
	if d := cmp.Diff([]string{vendor, admin, user, extra}, c.Files()); d != "" {
		t.Errorf("files (-want +got):\n%s", d)
	}
	if c.String("build.arch") != "amd64" || !c.Bool("offline") || len(c.List("keyrings")) != 2 {
		t.Errorf("accessors: %q %v %v", c.String("build.arch"), c.Bool("offline"), c.List("keyrings"))
	}
}

func TestErrors(t *testing.T) {
	cases := []struct {
		name, text string
		env        map[string]string
		want       string
	}{
		{"typo", "format = \"json\"\nmirorr = \"http://x\"\n", nil, `config.toml:2: unknown key "mirorr"; did you mean "mirror"?`},
		{"typo in table", "[build]\ndistro = \"debian:12\"\nvarient = \"custom\"\n", nil, `config.toml:3: unknown key "build.varient"; did you mean "build.variant"?`},
		{"unknown table", "[mirrors]\ndebian = \"http://x\"\n", nil, `config.toml:1: unknown key "mirrors"; did you mean "mirror"?`},
		{"wrong type", "offline = \"yes\"\n", nil, "config.toml:1: offline: expected a bool, found a string"},
		{"wrong list", "[build]\ncomponents = \"main\"\n", nil, "config.toml:2: build.components: expected a list, found a string"},
		{"syntax", "mirror = \n", nil, "config.toml:1: "},
		{"env bool", "", map[string]string{"ROOTFSD_OFFLINE": "maybe"}, `ROOTFSD_OFFLINE="maybe": expected true or false`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeConfig(t, dir, tc.text)
			_, err := Load(Options{Dirs: []string{dir}, LookupEnv: env(tc.env)})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestDefaultDirs(t *testing.T) {
	got := DefaultDirs(env(map[string]string{"XDG_CONFIG_HOME": "/x", "HOME": "/home/u"}))
	if d := cmp.Diff([]string{"/usr/share/rootfsd", "/etc/rootfsd", "/x/rootfsd"}, got); d != "" {
		t.Error(d)
	}
	got = DefaultDirs(env(map[string]string{"XDG_CONFIG_HOME": "relative", "HOME": "/home/u"}))
	if d := cmp.Diff([]string{"/usr/share/rootfsd", "/etc/rootfsd", "/home/u/.config/rootfsd"}, got); d != "" {
		t.Error(d)
	}
}

func FuzzLoad(f *testing.F) {
	f.Add("mirror = \"http://x\"\n[build]\ndistro = \"debian:12\"\n")
	f.Add("[build]\ncomponents = [\"main\", 1]\n")
	f.Add("a.b.c = 1\n[[x]]\n")
	f.Fuzz(func(t *testing.T, text string) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "config.toml"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := Load(Options{Dirs: []string{dir}, LookupEnv: env(nil)})
		if err != nil {
			return
		}
		for _, v := range c.Values() {
			k, _ := lookupKey(v.Key)
			switch k.Type {
			case String:
				_, ok := v.Value.(string)
				if !ok {
					t.Fatalf("%s: %T", v.Key, v.Value)
				}
			case Bool:
				if _, ok := v.Value.(bool); !ok {
					t.Fatalf("%s: %T", v.Key, v.Value)
				}
			case List:
				if _, ok := v.Value.([]string); !ok {
					t.Fatalf("%s: %T", v.Key, v.Value)
				}
			}
		}
	})
}
