package deb

import (
	"archive/tar"
	"context"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/rootfsd/rootfsd/deb/internal/debtest"
	"github.com/rootfsd/rootfsd/repo"
	"github.com/rootfsd/rootfsd/repo/fstree"
)

// Test builders for Assemble: packages are debtest.Deb values, the tree
// is in memory, options default to --trim none so that tests see what the
// packages ship.

func asmDir(name string) debtest.DebEntry { return debtest.DebEntry{Name: name, Type: tar.TypeDir} }
func asmFile(name, body string) debtest.DebEntry {
	return debtest.DebEntry{Name: name, Body: body}
}
func asmMode(name, body string, mode int64) debtest.DebEntry {
	return debtest.DebEntry{Name: name, Body: body, Mode: mode}
}
func asmLink(name, target string) debtest.DebEntry {
	return debtest.DebEntry{Name: name, Type: tar.TypeSymlink, Link: target}
}

// asmDirs returns directory entries for every parent of the paths.
func asmDirs(paths ...string) []debtest.DebEntry {
	seen := map[string]bool{}
	var out []debtest.DebEntry
	for _, p := range paths {
		parts := strings.Split(strings.Trim(p, "/"), "/")
		for i := range parts {
			d := "./" + strings.Join(parts[:i+1], "/") + "/"
			if !seen[d] {
				seen[d] = true
				out = append(out, asmDir(d))
			}
		}
	}
	return out
}

// testdata reads a file of testdata/.
func testdata(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var asmEpoch = time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)

// assemble runs Assemble over debs with opt (Trim "none" unless set).
func assemble(t testing.TB, opt AssembleOptions, debs ...debtest.Deb) (*fstree.Tree, *Assembled, error) {
	t.Helper()
	plan, open := debtest.Plan(t, nil, debs...)
	return assembleWith(t, opt, plan, open)
}

// assembleWith is assemble over a given plan and opener.
func assembleWith(t testing.TB, opt AssembleOptions, plan *repo.Plan, open func(repo.Planned) (io.ReadCloser, error)) (*fstree.Tree, *Assembled, error) {
	t.Helper()
	tr := fstree.New(fstree.Options{TempDir: t.TempDir()})
	t.Cleanup(func() { tr.Close() })
	if opt.Trim == "" {
		opt.Trim = "none"
	}
	if opt.Epoch.IsZero() {
		opt.Epoch = asmEpoch
	}
	res, err := Assemble(context.Background(), tr, plan, open, opt)
	return tr, res, err
}

func mustAssemble(t testing.TB, opt AssembleOptions, debs ...debtest.Deb) (*fstree.Tree, *Assembled) {
	t.Helper()
	tr, res, err := assemble(t, opt, debs...)
	if err != nil {
		t.Fatal(err)
	}
	return tr, res
}

func readTree(t testing.TB, tr *fstree.Tree, p string) string {
	t.Helper()
	b, err := tr.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func lookup(t testing.TB, tr *fstree.Tree, p string) fstree.Info {
	t.Helper()
	i, err := tr.Lookup(p)
	if err != nil {
		t.Fatal(err)
	}
	return i
}

// writeOut materialises the tree for host tools.
func writeOut(t testing.TB, tr *fstree.Tree) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "root")
	if err := tr.WriteDir(dir, fstree.DirOptions{IgnoreOwnership: os.Geteuid() != 0}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// treePaths lists the paths of a tree below prefix, sorted.
func treePaths(t testing.TB, tr *fstree.Tree, prefix string) []string {
	t.Helper()
	var out []string
	tr.Walk(func(i fstree.Info) error {
		if strings.HasPrefix(i.Path, prefix) {
			s := i.Path
			if i.Kind == fstree.KindSymlink {
				s += " -> " + i.Target
			}
			out = append(out, s)
		}
		return nil
	})
	sort.Strings(out)
	return out
}

// realWarnings drops the note about the minimal os-release that every
// fixture set without base-files gets.
func realWarnings(res *Assembled) []string {
	var out []string
	for _, w := range res.Warnings {
		if !strings.Contains(w, "minimal /usr/lib/os-release") {
			out = append(out, w)
		}
	}
	return out
}
