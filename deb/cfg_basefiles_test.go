package deb

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rootfsd/rootfsd/deb/internal/debtest"
	"github.com/rootfsd/rootfsd/repo/fstree"
)

// basePasswd is base-passwd with noble's real scripts and master files.
func basePasswd(t testing.TB) debtest.Deb {
	return debtest.Deb{Package: "base-passwd", Version: "3.6.3",
		ControlFiles: map[string]string{
			"preinst":  testdata(t, "assemble-noble/base-passwd.preinst"),
			"postinst": testdata(t, "assemble-noble/base-passwd.postinst"),
		},
		Data: append(asmDirs("usr/share/base-passwd"),
			asmFile("./usr/share/base-passwd/passwd.master", testdata(t, "assemble-noble/passwd.master")),
			asmFile("./usr/share/base-passwd/group.master", testdata(t, "assemble-noble/group.master")))}
}

// baseFiles is base-files with a release's real scripts and the files its
// postinst copies.
func baseFiles(t testing.TB, release string, merged bool) debtest.Deb {
	dirs := []string{"etc/dpkg/origins", "usr/share/base-files", "usr/share/info", "var/spool", "var/log", "run", "usr/local", "usr/lib"}
	if merged {
		dirs = append(dirs, "usr/bin", "usr/sbin", "usr/lib64")
	}
	data := asmDirs(dirs...)
	data = append(data,
		asmFile("./usr/lib/os-release", "ID=test\n"),
		debtest.DebEntry{Name: "./root/", Type: '5', Mode: 0o700},
		debtest.DebEntry{Name: "./tmp/", Type: '5', Mode: 0o1777},
		debtest.DebEntry{Name: "./var/lock/", Type: '5', Mode: 0o1777},
		asmDir("./var/run/"),
		asmFile("./etc/dpkg/origins/ubuntu", "Vendor: Ubuntu\n"),
		asmFile("./etc/dpkg/origins/debian", "Vendor: Debian\n"),
		asmFile("./usr/share/base-files/dot.profile", "# ~/.profile\n"),
		asmFile("./usr/share/base-files/dot.bashrc", "# ~/.bashrc\n"),
		asmFile("./usr/share/base-files/profile", "# /etc/profile\n"),
		asmFile("./usr/share/base-files/networks", "link-local 169.254.0.0\n"),
		asmFile("./usr/share/base-files/motd", "Welcome\n"),
		asmFile("./usr/share/base-files/info.dir", "INFO-DIR\n"))
	if merged {
		data = append(data, asmLink("./bin", "usr/bin"), asmLink("./sbin", "usr/sbin"), asmLink("./lib", "usr/lib"), asmLink("./lib64", "usr/lib64"))
	}
	files := map[string]string{"postinst": testdata(t, "assemble-"+release+"/base-files.postinst")}
	if release == "noble" {
		files["preinst"] = testdata(t, "assemble-noble/base-files.preinst")
	}
	return debtest.Deb{Package: "base-files", Version: "13ubuntu10", ControlFiles: files, Data: data}
}

func TestBuiltinBaseFiles(t *testing.T) {
	for _, release := range []string{"noble", "bookworm"} {
		t.Run(release, func(t *testing.T) {
			libc := debtest.Deb{Package: "libc6", Version: "2.39", Control: "Package: libc6\nVersion: 2.39\nArchitecture: amd64\nMulti-Arch: same\n"}
			if release == "noble" {
				libc.ControlFiles = map[string]string{"preinst": testdata(t, "assemble-noble/libc6.preinst")}
			}
			tr, res := mustAssemble(t, AssembleOptions{}, baseFiles(t, release, release == "noble"), basePasswd(t), libc)
			if len(res.Uncovered) > 0 || len(res.Warnings) > 0 {
				t.Errorf("uncovered %v, warnings %v", res.Uncovered, res.Warnings)
			}
			vendor := map[string]string{"noble": "ubuntu", "bookworm": "debian"}[release]
			checks := []struct {
				path   string
				kind   fstree.Kind
				mode   uint32
				gid    int
				target string
			}{
				{"etc/dpkg/origins/default", fstree.KindSymlink, 0o777, 0, vendor},
				{"root/.profile", fstree.KindFile, 0o644, 0, ""},
				{"root/.bashrc", fstree.KindFile, 0o644, 0, ""},
				{"etc/profile", fstree.KindFile, 0o644, 0, ""},
				{"mnt", fstree.KindDir, 0o755, 0, ""},
				{"srv", fstree.KindDir, 0o755, 0, ""},
				{"etc/opt", fstree.KindDir, 0o755, 0, ""},
				{"media", fstree.KindDir, 0o755, 0, ""},
				{"var/mail", fstree.KindDir, 0o2775, 8, ""},
				{"var/spool/mail", fstree.KindSymlink, 0o777, 0, "../mail"},
				{"run/lock", fstree.KindDir, 0o1777, 0, ""},
				{"var/run", fstree.KindSymlink, 0o777, 0, "/run"},
				{"var/lock", fstree.KindSymlink, 0o777, 0, "/run/lock"},
				{"usr/local/share/man", fstree.KindDir, 0o755, 0, ""},
				{"usr/local/man", fstree.KindSymlink, 0o777, 0, "share/man"},
				{"var/log/wtmp", fstree.KindFile, 0o664, 43, ""},
				{"var/log/btmp", fstree.KindFile, 0o660, 43, ""},
				{"var/log/lastlog", fstree.KindFile, 0o664, 43, ""},
				{"usr/share/info/dir", fstree.KindFile, 0o644, 0, ""},
			}
			for _, c := range checks {
				i := lookup(t, tr, c.path)
				if i.Kind != c.kind || i.Kind != fstree.KindSymlink && i.Mode != c.mode || i.GID != c.gid || i.UID != 0 || i.Target != c.target {
					t.Errorf("%s: %s %o %d:%d -> %q, want %s %o 0:%d -> %q", c.path, i.Kind, i.Mode, i.UID, i.GID, i.Target, c.kind, c.mode, c.gid, c.target)
				}
			}
			extra := map[string]string{"noble": "etc/networks", "bookworm": "etc/motd"}[release]
			if _, err := tr.Lookup(extra); err != nil {
				t.Errorf("%s: %v", extra, err)
			}
			if release == "noble" {
				// The DEP17 diversions of base-files' and libc6's preinsts,
				// in the order of dpkg's hash table (the real file).
				if diff := cmp.Diff(testdata(t, "assemble-noble/diversions"), readTree(t, tr, "var/lib/dpkg/diversions")); diff != "" {
					t.Errorf("diversions (-want +got):\n%s", diff)
				}
			} else if _, err := tr.Lookup("var/lib/dpkg/diversions"); err == nil {
				t.Error("bookworm's base-files diverts nothing")
			}
		})
	}
}

func TestBuiltinPasswd(t *testing.T) {
	skel := append(asmDirs("etc/skel"), asmFile("./etc/skel/.bashrc", "# bashrc\n"))
	bash := debtest.Deb{Package: "bash", Data: append(append(asmDirs("bin"), asmMode("./bin/bash", "ELF", 0o755)), skel...)}
	t.Run("base-passwd", func(t *testing.T) {
		tr, _ := mustAssemble(t, AssembleOptions{Users: []string{"alice", "bob:2000"}}, basePasswd(t), bash)
		master := testdata(t, "assemble-noble/passwd.master")
		want := master + "alice:*:1000:1000::/home/alice:/bin/bash\nbob:*:2000:2000::/home/bob:/bin/bash\n"
		if diff := cmp.Diff(want, readTree(t, tr, "etc/passwd")); diff != "" {
			t.Errorf("passwd (-want +got):\n%s", diff)
		}
		group := readTree(t, tr, "etc/group")
		if !strings.HasPrefix(group, testdata(t, "assemble-noble/group.master")) || !strings.HasSuffix(group, "alice:*:1000:\nbob:*:2000:\n") {
			t.Errorf("group:\n%s", group)
		}
		home := lookup(t, tr, "home/alice")
		if home.Kind != fstree.KindDir || home.Mode != 0o750 || home.UID != 1000 || home.GID != 1000 {
			t.Errorf("home/alice: %+v", home)
		}
		if i := lookup(t, tr, "home/bob/.bashrc"); i.UID != 2000 || readTree(t, tr, "home/bob/.bashrc") != "# bashrc\n" {
			t.Errorf("home/bob/.bashrc: %+v", i)
		}
		if _, err := tr.Lookup("etc/shadow"); err == nil {
			t.Error("no shadow file without the passwd package")
		}
	})
	t.Run("minimal", func(t *testing.T) {
		tr, _ := mustAssemble(t, AssembleOptions{Users: []string{"app:1000"}}, debtest.Deb{Package: "hello"})
		want := "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\napp:x:1000:1000::/home/app:/bin/sh\n"
		if diff := cmp.Diff(want, readTree(t, tr, "etc/passwd")); diff != "" {
			t.Errorf("passwd (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff("root:x:0:\nshadow:x:42:\nnogroup:x:65534:\napp:x:1000:\n", readTree(t, tr, "etc/group")); diff != "" {
			t.Errorf("group (-want +got):\n%s", diff)
		}
		day := "20487" // 2026-02-03
		if diff := cmp.Diff("root:*:"+day+":0:99999:7:::\nnobody:*:"+day+":0:99999:7:::\napp:*:"+day+":0:99999:7:::\n", readTree(t, tr, "etc/shadow")); diff != "" {
			t.Errorf("shadow (-want +got):\n%s", diff)
		}
		if i := lookup(t, tr, "etc/shadow"); i.Mode != 0o640 || i.GID != 42 {
			t.Errorf("shadow: %o %d:%d", i.Mode, i.UID, i.GID)
		}
		if i := lookup(t, tr, "tmp"); i.Kind != fstree.KindDir || i.Mode != 0o1777 {
			t.Errorf("tmp: %s %o", i.Kind, i.Mode)
		}
	})
	t.Run("conflicts", func(t *testing.T) {
		for _, users := range [][]string{{"root"}, {"x1:0"}, {"a1", "a1"}} {
			if _, _, err := assemble(t, AssembleOptions{Users: users}, basePasswd(t)); err == nil {
				t.Errorf("--user %v: no error", users)
			}
		}
	})
}
