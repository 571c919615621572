package apk

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rootfsd/rootfsd/repo"
	"github.com/rootfsd/rootfsd/repo/fstree"
	"github.com/rootfsd/rootfsd/repo/repotest"
)

// The record rebuilt from a package file equals its upstream index record,
// for every fixture package.
func TestPackageFromFile(t *testing.T) {
	n := 0
	for _, rel := range []string{isoRepo, "v3.19/main/x86_64"} {
		idx := fixtureIndex(t, rel)
		for i := range idx.Packages {
			p := &idx.Packages[i]
			f, err := os.Open(filepath.Join(fixture(t, rel), p.Filename()))
			if os.IsNotExist(err) {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			pf, err := ReadControl(context.Background(), f, AllKeys(), Expect{Checksum: p.Checksum, Name: p.Name, Version: p.Version}, Limits{})
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			var want, got strings.Builder
			p.AppendIndexHeader(&want)
			PackageFromFile(pf, "x86_64", p.Size).AppendIndexHeader(&got)
			if want.String() != got.String() {
				t.Errorf("%s: index record\n%s\nrebuilt\n%s", p.ID(), want.String(), got.String())
			}
			n++
		}
	}
	if n != 39 {
		t.Errorf("%d packages compared, want 39", n)
	}
}

// Assembling a lock (packages sorted by name, no index at hand) gives the
// same database, byte for byte, as installing from the index in resolver
// order.
func TestAssembleLock(t *testing.T) {
	srv := serveCounting(t)
	b := testBackend(srv.Server, repotest.NewMemCache(), "v3.19.1-iso/apks")
	req := repo.Request{Packages: minirootfsWorld, Variant: repo.VariantCustom}
	plan, err := b.Resolve(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	lock := repo.NewLock(req, plan)
	if lock.Packages[0].Name != "alpine-baselayout" || lock.Packages[14].Name != "zlib" {
		t.Fatalf("lock not sorted by name")
	}
	open := func(p repo.Planned) (io.ReadCloser, error) {
		return os.Open(filepath.Join(fixture(t, "v3.19.1-iso/apks"), p.Filename))
	}
	tree := fstree.New(fstree.Options{TempDir: t.TempDir()})
	defer tree.Close()
	world := []Dep{}
	for _, n := range minirootfsWorld {
		world = append(world, Dep{Name: n, Op: OpAny})
	}
	res, err := Assemble(context.Background(), tree, &lock.Plan, open, AssembleOptions{World: world})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Installed) != 15 || len(res.Warnings) != 0 {
		t.Fatalf("%d installed, warnings %v", len(res.Installed), res.Warnings)
	}
	ref, _ := installWorld(t, isoRepo, minirootfsWorld...)
	for _, f := range []string{"lib/apk/db/installed", "lib/apk/db/scripts.tar", "lib/apk/db/triggers", "etc/apk/world", "bin/ls"} {
		got, err1 := tree.ReadFile(f)
		want, err2 := ref.ReadFile(f)
		if err1 != nil || err2 != nil || !bytes.Equal(got, want) {
			t.Errorf("%s differs (%v, %v)", f, err1, err2)
		}
	}
	// A lock whose file was swapped for another package fails verification.
	swap := func(p repo.Planned) (io.ReadCloser, error) {
		if p.Name == "zlib" {
			return os.Open(fixture(t, isoRepo+"/scanelf-1.3.7-r2.apk"))
		}
		return open(p)
	}
	tree2 := fstree.New(fstree.Options{TempDir: t.TempDir()})
	defer tree2.Close()
	if _, err := Assemble(context.Background(), tree2, &lock.Plan, swap, AssembleOptions{}); err == nil ||
		!strings.Contains(err.Error(), "zlib-1.3.1-r0") {
		t.Errorf("swapped package: %v", err)
	}
}

// Without alpine-release, the tree still names its release in
// /etc/os-release, as Alpine's minirootfs build writes it; with it, the
// package's file stays.
func TestAssembleOSRelease(t *testing.T) {
	tree := fstree.New(fstree.Options{TempDir: t.TempDir()})
	defer tree.Close()
	if err := ensureOSRelease(tree, "alpine:3.19", time.Unix(0, 0)); err != nil {
		t.Fatal(err)
	}
	got, err := tree.ReadFile("etc/os-release")
	if err != nil {
		t.Fatal(err)
	}
	want := "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.19\nPRETTY_NAME=\"Alpine Linux v3.19\"\n"
	if string(got) != want {
		t.Errorf("os-release:\n%s\nwant:\n%s", got, want)
	}
	owned := fstree.New(fstree.Options{TempDir: t.TempDir()})
	defer owned.Close()
	if err := owned.MkdirAll("etc", fstree.Attr{Mode: 0o755}); err != nil {
		t.Fatal(err)
	}
	if err := owned.WriteFile("etc/alpine-release", []byte("3.19.1\n"), fstree.Attr{Mode: 0o644}); err != nil {
		t.Fatal(err)
	}
	if err := ensureOSRelease(owned, "alpine:3.19", time.Unix(0, 0)); err != nil {
		t.Fatal(err)
	}
	if _, err := owned.Lookup("etc/os-release"); err == nil {
		t.Error("os-release written beside alpine-release's files")
	}
}
