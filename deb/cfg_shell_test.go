package deb

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestShellCommands(t *testing.T) {
	cases := []struct {
		name, script string
		want         [][]string
	}{
		{"continued", "update-alternatives --install /usr/bin/a a /usr/bin/b 5 \\\n  --slave /x x /y\n",
			[][]string{{"--install", "/usr/bin/a", "a", "/usr/bin/b", "5", "--slave", "/x", "x", "/y"}}},
		{"quotes and or", `update-alternatives --install "/usr/bin/a" 'a' /b 5 || true`,
			[][]string{{"--install", "/usr/bin/a", "a", "/b", "5"}}},
		{"after then", "if x; then update-alternatives --quiet --set a /b; fi", [][]string{{"--quiet", "--set", "a", "/b"}}},
		{"dpkg root", `ln -sf share/man "$DPKG_ROOT/usr/local/man"`, [][]string{{"-sf", "share/man", "/usr/local/man"}}},
		{"dpkg root braces", `ln -s ../mail ${DPKG_ROOT}/var/spool/mail`, [][]string{{"-s", "../mail", "/var/spool/mail"}}},
		{"expansion skipped", "update-alternatives --install /usr/bin/$n n /x 1\nupdate-alternatives --install /a a /b 1", [][]string{{"--install", "/a", "a", "/b", "1"}}},
		{"command substitution", "update-alternatives --install /a a `which b` 1", nil},
		{"not a command", "echo update-alternatives --install /a a /b 1\nmy-update-alternatives x", nil},
		{"redirect ends", "update-alternatives --remove rename /usr/bin/prename > /dev/null", [][]string{{"--remove", "rename", "/usr/bin/prename"}}},
		{"unterminated quote", "update-alternatives --install '/a", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cmd := "update-alternatives"
			if strings.HasPrefix(strings.TrimSpace(tc.script), "ln") {
				cmd = "ln"
			}
			if diff := cmp.Diff(tc.want, shellCommands(tc.script, cmd)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestShellAssignmentAndHeredoc(t *testing.T) {
	pre := testdata(t, "assemble-noble/base-files.preinst")
	if v, ok := shellAssignment(pre, "USR_MERGE"); !ok || v != "bin lib lib32 lib64 libo32 lib64 sbin" {
		t.Errorf("USR_MERGE = %q, %v", v, ok)
	}
	if _, ok := shellAssignment("X=$(date)\n", "X"); ok {
		t.Error("a command substitution is not a literal")
	}
	body, ok := heredoc(testdata(t, "assemble-noble/base-passwd.preinst"), "/etc/group")
	if !ok || !strings.HasPrefix(body, "root:*:0:\n") || !strings.HasSuffix(body, "nogroup:*:65534:\n") {
		t.Errorf("group heredoc %v:\n%s", ok, body)
	}
	if _, ok := heredoc("cat > /etc/x <<EOF\nhome=$HOME\nEOF\n", "/etc/x"); ok {
		t.Error("an unquoted here-document with expansions is not literal")
	}
	if body, ok := heredoc("cat > \"$DPKG_ROOT/etc/x\" <<-'END'\na $b\nEND\n", "/etc/x"); !ok || body != "a $b\n" {
		t.Errorf("quoted here-document: %q %v", body, ok)
	}
}

func FuzzShellCommands(f *testing.F) {
	for _, s := range []string{
		"update-alternatives --install /a a /b 5 \\\n --slave /c c /d\n",
		`update-alternatives "--install" '/a' a "$DPKG_ROOT/b" 1 || true`,
		"if [ -x x ]; then update-alternatives --set a /b; fi",
		"update-alternatives --install \"/a\\\"b\" 'c' `d` $(e) ${f}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, args := range shellCommands(s, "update-alternatives") {
			for _, w := range args {
				if strings.ContainsAny(w, "\x00") {
					t.Fatalf("word %q carries a marker", w)
				}
			}
		}
		blocks, rest := debhelperBlocks(s)
		if len(rest) > len(s)+1 {
			t.Fatalf("rest longer than the script")
		}
		for _, b := range blocks {
			if !dhNoop[b.tool] && !dhKnown[b.tool] {
				t.Fatalf("unknown tool %q in blocks", b.tool)
			}
		}
		heredoc(s, "/etc/passwd")
		shellAssignment(s, "X")
	})
}
