package lockdiff

import (
	"archive/tar"
	"bytes"
	"context"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/rootfsd/rootfsd/repo"
	"github.com/rootfsd/rootfsd/repo/check"
	"github.com/rootfsd/rootfsd/repo/fstree"
)

func pkg(name, version, sha string) repo.Planned {
	return repo.Planned{Name: name, Version: version, Arch: "amd64", SHA256: sha, Filename: "pool/" + name + "_" + version + ".deb", Suite: "noble"}
}

// numeric compares versions as integers, enough for these tests.
func numeric(a, b string) int { return strings.Compare(a, b) }

func TestPackages(t *testing.T) {
	a := []repo.Planned{pkg("curl", "1", "a"), pkg("libc6", "2", "b"), pkg("gone", "1", "c"), pkg("same", "1", "d"), pkg("rebuilt", "1", "e"), pkg("old", "5", "f")}
	b := []repo.Planned{pkg("curl", "2", "a"), pkg("libc6", "2", "b"), pkg("new", "1", "x"), pkg("same", "1", "d"), pkg("rebuilt", "1", "E"), pkg("old", "4", "f")}
	got := Packages(a, b, Options{Compare: numeric})
	want := []Change{
		{Kind: Upgraded, Name: "curl", Arch: "amd64", From: "1", To: "2", Suite: "noble"},
		{Kind: Removed, Name: "gone", Arch: "amd64", From: "1", Suite: "noble"},
		{Kind: Added, Name: "new", Arch: "amd64", To: "1", Suite: "noble"},
		{Kind: Downgraded, Name: "old", Arch: "amd64", From: "5", To: "4", Suite: "noble"},
		{Kind: Rebuilt, Name: "rebuilt", Arch: "amd64", From: "1", To: "1", Suite: "noble"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if got := Packages(a[:1], b[:1], Options{}); len(got) != 1 || got[0].Kind != Changed || got[0].String() != "~ curl 1 -> 2 (changed)" {
		t.Errorf("without an ordering: %+v", got)
	}
	if got := Packages(a, a, Options{}); len(got) != 0 {
		t.Errorf("a lock against itself: %+v", got)
	}
}

func TestLocks(t *testing.T) {
	mk := func(pkgs []string, date, digest string, p ...repo.Planned) *repo.Lock {
		req := repo.Request{Distro: "ubuntu:24.04", Arch: "amd64", Packages: pkgs, Variant: repo.VariantBase}
		return repo.NewLock(req, &repo.Plan{Family: repo.FamilyDeb, Distro: "ubuntu:24.04", Arch: "amd64", Variant: repo.VariantBase,
			Indexes: []repo.Index{{Name: "noble", Digest: strings.Repeat("1", 64)}, {Name: "noble-security", Date: date, Digest: digest}}, Packages: p})
	}
	a := mk([]string{"curl"}, "2026-11-01T00:00:00Z", strings.Repeat("a", 64), pkg("curl", "1", "a"))
	b := mk([]string{"curl", "jq"}, "2026-11-20T00:00:00Z", strings.Repeat("b", 64), pkg("curl", "1", "a"), pkg("jq", "1.7", "j"))
	r := Locks(a, b, Options{Compare: numeric})
	want := &Result{
		Fields: []Field{
			{Name: "request.packages", From: "curl", To: "curl jq"},
			{Name: "index noble-security", From: "2026-11-01T00:00:00Z aaaaaaaaaaaa", To: "2026-11-20T00:00:00Z bbbbbbbbbbbb"},
		},
		Packages: []Change{{Kind: Added, Name: "jq", Arch: "amd64", To: "1.7", Suite: "noble"}},
	}
	if d := cmp.Diff(want, r); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if !Locks(a, a, Options{}).Empty() {
		t.Error("a lock differs from itself")
	}
}

func TestTrees(t *testing.T) {
	a := fstest.MapFS{
		"etc/os-release": {Data: []byte("ID=debian\n"), Mode: 0o644},
		"etc/passwd":     {Data: []byte("root:x:0:0\n"), Mode: 0o644},
		"usr/bin/tool":   {Data: []byte("v1"), Mode: 0o755},
		"usr/bin/alias":  {Data: []byte("tool"), Mode: fs.ModeSymlink | 0o777},
		"usr/bin/gone":   {Data: []byte("x"), Mode: 0o755},
		"var/x":          {Data: []byte("file"), Mode: 0o644},
	}
	b := fstest.MapFS{
		"etc/os-release": {Data: []byte("ID=debian\n"), Mode: 0o644},
		"etc/passwd":     {Data: []byte("root:x:0:1\n"), Mode: 0o600},
		"usr/bin/tool":   {Data: []byte("v2 longer"), Mode: 0o755},
		"usr/bin/alias":  {Data: []byte("tool2"), Mode: fs.ModeSymlink | 0o777},
		"usr/bin/new":    {Data: []byte("x"), Mode: 0o755},
		"var/x":          {Mode: fs.ModeDir | 0o755},
	}
	got, err := Trees(context.Background(), a, b)
	if err != nil {
		t.Fatal(err)
	}
	want := []File{
		{Path: "/etc/passwd", Kind: Modified, What: []string{"mode 0644 -> 0600", "content (11 -> 11 bytes)"}},
		{Path: "/usr/bin/alias", Kind: Modified, What: []string{"target tool -> tool2"}},
		{Path: "/usr/bin/gone", Kind: Removed},
		{Path: "/usr/bin/new", Kind: Added},
		{Path: "/usr/bin/tool", Kind: Modified, What: []string{"content (2 -> 9 bytes)"}},
		{Path: "/var/x", Kind: Modified, What: []string{"type file -> directory"}},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

// Trees unpacked from tars keep ownership, and Trees compares it.
func TestTreesOwnership(t *testing.T) {
	tree := func(uid int) fs.ReadLinkFS {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		tw.WriteHeader(&tar.Header{Name: "home/app/", Typeflag: tar.TypeDir, Mode: 0o755, Uid: uid, Gid: uid})
		tw.WriteHeader(&tar.Header{Name: "var/lib/dpkg/status", Typeflag: tar.TypeReg, Mode: 0o644, Size: 59})
		tw.Write([]byte("Package: libc6\nStatus: install ok installed\nVersion: 2.36\n\n"))
		tw.Close()
		tr := fstree.New(fstree.Options{})
		t.Cleanup(func() { tr.Close() })
		if err := tr.ReadTar(&buf, "test"); err != nil {
			t.Fatal(err)
		}
		return check.TreeFS(tr)
	}
	got, err := Trees(context.Background(), tree(0), tree(1000))
	if err != nil {
		t.Fatal(err)
	}
	want := []File{{Path: "/home/app", Kind: Modified, What: []string{"owner 0:0 -> 1000:1000"}}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	pkgs := check.Installed(context.Background(), tree(0))
	if len(pkgs) != 1 || pkgs[0].Name != "libc6" || pkgs[0].Version != "2.36" {
		t.Errorf("installed: %+v", pkgs)
	}
}
