package overlay

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rootfsd/rootfsd/repo/fstree"
)

var epoch = time.Unix(1700000000, 0).UTC()

func baseTree(t *testing.T, shadow bool) *fstree.Tree {
	t.Helper()
	tr := fstree.New(fstree.Options{})
	t.Cleanup(func() { tr.Close() })
	must(t, tr.MkdirAll("etc", fstree.Attr{Mode: 0o755}))
	must(t, tr.MkdirAll("usr/bin", fstree.Attr{Mode: 0o755}))
	must(t, tr.WriteFile("etc/passwd", []byte("root:x:0:0:root:/root:/bin/bash\nwww-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n"), fstree.Attr{Mode: 0o644}))
	must(t, tr.WriteFile("etc/group", []byte("root:x:0:\nwww-data:x:33:\nusers:x:100:\n"), fstree.Attr{Mode: 0o644}))
	if shadow {
		must(t, tr.WriteFile("etc/shadow", []byte("root:*:19000:0:99999:7:::\n"), fstree.Attr{Mode: 0o640, GID: 42}))
	}
	must(t, tr.WriteFile("usr/bin/python3", []byte("py"), fstree.Attr{Mode: 0o755}))
	return tr
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, tr *fstree.Tree, p string) string {
	t.Helper()
	b, err := tr.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestApply(t *testing.T) {
	tr := baseTree(t, true)
	o := &Overlay{
		Groups: []Group{{Name: "data", GID: 2000}, {Name: "users", GID: -1}},
		Users: []User{
			{Name: "app", UID: 10001, Groups: []string{"data", "users"}, Home: "/var/lib/app", Shell: "/usr/sbin/nologin"},
			{Name: "svc", UID: -1, Group: "www-data"},
		},
		Paths: []Path{
			{Path: "/tmp", Type: Directory, Mode: 0o1777, HasMode: true},
			{Path: "/srv/app/data", Type: Directory, Mode: 0o750, HasMode: true, Owner: "app:data"},
			{Path: "/usr/bin/python", Type: Symlink, Target: "python3"},
			{Path: "/usr/bin/python3", Mode: 0o700, HasMode: true, Owner: "app"},
		},
		Files: []File{{Dest: "/usr/local/bin/app", Mode: 0o755, Owner: "0:0", Data: []byte("bin")}, {Dest: "/etc/app.conf", Owner: "app:www-data", Data: []byte("x=1\n")}},
	}
	must(t, o.Apply(tr, Options{Epoch: epoch}))
	if d := cmp.Diff("root:x:0:0:root:/root:/bin/bash\nwww-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\napp:x:10001:10001::/var/lib/app:/usr/sbin/nologin\nsvc:x:1000:33::/home/svc:/bin/sh\n", read(t, tr, "etc/passwd")); d != "" {
		t.Errorf("passwd (-want +got):\n%s", d)
	}
	if d := cmp.Diff("root:x:0:\nwww-data:x:33:\nusers:x:100:app\ndata:x:2000:app\napp:x:10001:\n", read(t, tr, "etc/group")); d != "" {
		t.Errorf("group (-want +got):\n%s", d)
	}
	if got := read(t, tr, "etc/shadow"); !strings.Contains(got, "app:*:19675:0:99999:7:::\n") {
		t.Errorf("shadow:\n%s", got)
	}
	if i, _ := tr.Stat("etc/shadow"); i.Mode != 0o640 || i.GID != 42 {
		t.Errorf("shadow lost its metadata: %o %d", i.Mode, i.GID)
	}
	checks := []struct {
		path     string
		kind     fstree.Kind
		mode     uint32
		uid, gid int
	}{
		{"var/lib/app", fstree.KindDir, 0o755, 10001, 10001},
		{"home/svc", fstree.KindDir, 0o755, 1000, 33},
		{"tmp", fstree.KindDir, 0o1777, 0, 0},
		{"srv/app", fstree.KindDir, 0o755, 0, 0},
		{"srv/app/data", fstree.KindDir, 0o750, 10001, 2000},
		{"usr/bin/python3", fstree.KindFile, 0o700, 10001, 10001},
		{"usr/local/bin/app", fstree.KindFile, 0o755, 0, 0},
		{"etc/app.conf", fstree.KindFile, 0o644, 10001, 33},
	}
	for _, c := range checks {
		i, err := tr.Lookup(c.path)
		if err != nil {
			t.Errorf("%s: %v", c.path, err)
			continue
		}
		if i.Kind != c.kind || i.Mode != c.mode || i.UID != c.uid || i.GID != c.gid || !i.ModTime.Equal(epoch) && c.path != "usr/bin/python3" {
			t.Errorf("%s: %s %o %d:%d %v, want %s %o %d:%d", c.path, i.Kind, i.Mode, i.UID, i.GID, i.ModTime, c.kind, c.mode, c.uid, c.gid)
		}
	}
	if i, err := tr.Lookup("usr/bin/python"); err != nil || i.Kind != fstree.KindSymlink || i.Target != "python3" {
		t.Errorf("symlink: %+v %v", i, err)
	}
	if o.Digest() == "" || o.Digest() != (&Overlay{Groups: o.Groups, Users: o.Users, Paths: o.Paths, Files: o.Files}).Digest() {
		t.Error("digest is not stable")
	}
}

func TestApplyErrors(t *testing.T) {
	cases := []struct {
		name string
		o    Overlay
		want string
	}{
		{"existing user", Overlay{Users: []User{{Name: "www-data", UID: -1}}}, "user www-data: the account already exists"},
		{"uid taken", Overlay{Users: []User{{Name: "x", UID: 33}}}, "uid 33 is taken by www-data"},
		{"gid taken", Overlay{Groups: []Group{{Name: "x", GID: 100}}}, "gid 100 is taken by users"},
		{"gid differs", Overlay{Groups: []Group{{Name: "users", GID: 5}}}, "exists in /etc/group with gid 100, not 5"},
		{"unknown group", Overlay{Users: []User{{Name: "x", UID: -1, Groups: []string{"nope"}}}}, `supplementary group "nope" is not in /etc/group`},
		{"unknown primary", Overlay{Users: []User{{Name: "x", UID: -1, Group: "nope"}}}, `primary group "nope" is not in /etc/group`},
		{"unknown owner", Overlay{Files: []File{{Dest: "/x", Owner: "nobody", Data: nil}}}, `no user "nobody" in /etc/passwd`},
		{"missing path", Overlay{Paths: []Path{{Path: "/nope", Mode: 0o700, HasMode: true}}}, "does not exist: give type"},
		{"dir over file", Overlay{Paths: []Path{{Path: "/usr/bin/python3", Type: Directory}}}, "exists and is a file"},
		{"relative", Overlay{Paths: []Path{{Path: "rel", Type: Directory}}}, `path "rel": must be absolute`},
		{"bad name", Overlay{Users: []User{{Name: "Root", UID: -1}}}, `user "Root": the name must match`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.o.Apply(baseTree(t, false), Options{Epoch: epoch})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// On a tree without account files, Apply creates them.
func TestApplyEmptyTree(t *testing.T) {
	tr := fstree.New(fstree.Options{})
	defer tr.Close()
	o := &Overlay{Users: []User{{Name: "app", UID: 1000}}}
	must(t, o.Apply(tr, Options{Epoch: epoch}))
	if got := read(t, tr, "etc/passwd"); got != "app:*:1000:1000::/home/app:/bin/sh\n" {
		t.Errorf("passwd %q", got)
	}
	if got := read(t, tr, "etc/group"); got != "app:x:1000:\n" {
		t.Errorf("group %q", got)
	}
}
