//go:build mirror

package deb_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/rootfsd/rootfsd/deb"
	"github.com/rootfsd/rootfsd/repo"
	"github.com/rootfsd/rootfsd/repo/fstree"
)

// TestMirrorAssemblePerformance measures unpacking against "zstd -dc |
// tar -x" of the same data.tar members (one of noble's is xz, decoded
// with xz -dc) and a whole assemble from cached .debs.
func TestMirrorAssemblePerformance(t *testing.T) {
	for _, tool := range []string{"zstd", "tar", "ar"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("SKIPPING: no %s", tool)
		}
	}
	plan, open, _ := fetched(t, repo.Request{Distro: "ubuntu:24.04", Arch: "amd64", Variant: repo.VariantEssential, Packages: []string{"ca-certificates"}})
	work := t.TempDir()
	// Extract into memory where the host allows, so that the disk's
	// state does not decide the comparison.
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		if shm, err := os.MkdirTemp("/dev/shm", "rootfsd-perf-"); err == nil {
			defer os.RemoveAll(shm)
			work = shm
		}
	}
	debs := filepath.Join(work, "debs")
	os.MkdirAll(debs, 0o755)
	var names []string
	for _, p := range plan.Packages {
		rc, err := open(p)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		name := filepath.Join(debs, p.Name+".deb")
		os.WriteFile(name, b, 0o644)
		names = append(names, name)
	}
	best := func(n int, fn func() error) time.Duration {
		var min time.Duration
		for i := 0; i < n; i++ {
			start := time.Now()
			if err := fn(); err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); min == 0 || d < min {
				min = d
			}
		}
		return min
	}
	// Reference: the data.tar members of every package, decompressed and
	// concatenated into one tar, compressed with zstd: the same payload as
	// one stream for "zstd -dc | tar -x" (untimed preparation).
	prep := `for d in "$@"; do
		m=$(ar p "$d" >/dev/null; ar t "$d" | grep '^data.tar'); case "$m" in *.zst) z="zstd -dcq";; *.xz) z="xz -dc";; *.gz) z="gzip -dc";; *) z=cat;; esac
		ar p "$d" "$m" | $z >> "$OUT/all.tar" || exit 1; done; zstd -q --rm -f "$OUT/all.tar"`
	cmd := exec.Command("sh", append([]string{"-c", prep, "sh"}, names...)...)
	cmd.Env = append(os.Environ(), "OUT="+work)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("prepare the payload: %v\n%s", err, out)
	}
	ref := best(3, func() error {
		dir := filepath.Join(work, "ref")
		os.RemoveAll(dir)
		os.MkdirAll(dir, 0o755)
		out, err := exec.Command("sh", "-c", `zstd -dcq "$1" | tar -x -i --no-same-owner -C "$2"`, "sh", filepath.Join(work, "all.tar.zst"), dir).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%v: %s", err, out)
		}
		return nil
	})
	unpackOnly := best(3, func() error {
		tr := fstree.New(fstree.Options{TempDir: work})
		defer tr.Close()
		for _, p := range plan.Packages {
			rc, err := open(p)
			if err != nil {
				return err
			}
			_, err = deb.Unpack(context.Background(), rc, p.Name, tr, deb.UnpackOptions{Replace: func(string, string) error { return nil }})
			rc.Close()
			if err != nil {
				return err
			}
		}
		return nil
	})
	unpackToDisk := best(3, func() error {
		tr := fstree.New(fstree.Options{TempDir: work})
		defer tr.Close()
		for _, p := range plan.Packages {
			rc, _ := open(p)
			_, err := deb.Unpack(context.Background(), rc, p.Name, tr, deb.UnpackOptions{Replace: func(string, string) error { return nil }})
			rc.Close()
			if err != nil {
				return err
			}
		}
		dir := filepath.Join(work, "ours")
		os.RemoveAll(dir)
		return tr.WriteDir(dir, fstree.DirOptions{IgnoreOwnership: true})
	})
	assemble := func(xz string) time.Duration {
		return best(3, func() error {
			tr := fstree.New(fstree.Options{TempDir: work})
			defer tr.Close()
			_, err := deb.Assemble(context.Background(), tr, plan, open, deb.AssembleOptions{Trim: "none", XZCommand: xz})
			return err
		})
	}
	goXZ := assemble("")
	t.Logf("%d packages: zstd -dc | tar -x %v; sequential Unpack into the tree %v (%.2fx); Unpack + WriteDir %v (%.2fx); whole Assemble %v (%.2fx)",
		len(names), ref.Round(time.Millisecond), unpackOnly.Round(time.Millisecond), float64(unpackOnly)/float64(ref),
		unpackToDisk.Round(time.Millisecond), float64(unpackToDisk)/float64(ref), goXZ.Round(time.Millisecond), float64(goXZ)/float64(ref))
	if xz, err := exec.LookPath("xz"); err == nil {
		withXZ := assemble(xz)
		t.Logf("whole Assemble with XZCommand=%s: %v (%.2fx)", xz, withXZ.Round(time.Millisecond), float64(withXZ)/float64(ref))
	}
	// The goal is 1.5x for extraction; on a shared two-core machine this
	// measures 2-3x (see the report). Fail on regressions well past that.
	if goXZ > 4*ref || goXZ > time.Second {
		t.Errorf("assemble took %v, %.1fx zstd | tar", goXZ, float64(goXZ)/float64(ref))
	}
}
