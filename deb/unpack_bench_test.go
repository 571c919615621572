package deb

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/rootfsd/rootfsd/deb/internal/debtest"
	"github.com/rootfsd/rootfsd/repo/fstree"
)

// benchPayload is up to 32 MiB of real files (this machine's shared
// libraries and programs), or generated text where there are none.
func benchPayload(b *testing.B) []debEntry {
	b.Helper()
	const max = 32 << 20
	es := []debEntry{tDir("./")}
	total := 0
	for _, root := range []string{"/usr/lib/x86_64-linux-gnu", "/usr/bin"} {
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || total >= max {
				return fs.SkipDir
			}
			if d.IsDir() {
				es = append(es, tDir("."+p+"/"))
				return nil
			}
			if !d.Type().IsRegular() {
				return nil
			}
			body, err := os.ReadFile(p)
			if err == nil && total+len(body) <= max {
				es = append(es, tFile("."+p, string(body)))
				total += len(body)
			}
			return nil
		})
	}
	for i := 0; total < max; i++ {
		body := strings.Repeat("generated payload line for the unpack benchmark\n", 1000+i%300)
		es = append(es, tFile("./gen/"+strings.Repeat("x", i%40)+string(rune('a'+i%26))+strings.Repeat("y", i/26), body))
		total += len(body)
	}
	return es
}

// benchDeb builds the payload's .deb. xz members are made by the xz
// program when there is one, as dpkg-deb does with liblzma: the Go encoder
// writes streams that also decode more slowly.
func benchDeb(b *testing.B, comp string, es []debEntry) []byte {
	b.Helper()
	if comp != ".xz" || !haveProgram("xz") {
		return debtest.MakeDeb(b, debtest.Deb{Package: "payload", Data: es, Compression: comp, ControlCompression: "none"})
	}
	return debtest.Ar(
		debtest.ArMember{Name: "debian-binary", Data: []byte("2.0\n")},
		debtest.ArMember{Name: "control.tar", Data: debtest.Tar(b, debEntry{Name: "./control", Body: "Package: payload\n"})},
		debtest.ArMember{Name: "data.tar.xz", Data: xzProgram(b, debtest.Tar(b, es...))},
	)
}

func xzProgram(b *testing.B, data []byte) []byte {
	cmd := exec.Command("xz", "-6", "-c")
	cmd.Stdin = bytes.NewReader(data)
	out, err := cmd.Output()
	if err != nil {
		b.Fatal(err)
	}
	return out
}

// dataSize is the decompressed size of data.tar, for MB/s figures.
func dataSize(b *testing.B, es []debEntry) int64 {
	return int64(len(debtest.Tar(b, es...)))
}

// BenchmarkUnpack unpacks the payload into an in-memory tree (content
// spooled to a temporary file), and, for comparison, with the reference
// tools: zstd -dc | tar -x and xz -dc | tar -x into a directory, in the same
// run. MB/s are of decompressed data.tar bytes.
func BenchmarkUnpack(b *testing.B) {
	es := benchPayload(b)
	size := dataSize(b, es)
	for _, c := range []struct{ name, comp, xz string }{
		{"zst", ".zst", ""}, {"gz", ".gz", ""}, {"xz", ".xz", ""}, {"xz-cmd", ".xz", "xz"}, {"none", "", ""},
	} {
		if c.xz != "" && !haveProgram(c.xz) {
			continue
		}
		b.Run(c.name, func(b *testing.B) {
			deb := benchDeb(b, c.comp, es)
			b.SetBytes(size)
			tmp := b.TempDir()
			for b.Loop() {
				tr := fstree.New(fstree.Options{TempDir: tmp})
				if _, err := Unpack(context.Background(), bytes.NewReader(deb), "payload", tr, UnpackOptions{XZCommand: c.xz}); err != nil {
					b.Fatal(err)
				}
				tr.Close()
			}
		})
		if c.comp == ".zst" {
			b.Run("zst+WriteDir", func(b *testing.B) {
				deb := benchDeb(b, c.comp, es)
				b.SetBytes(size)
				tmp := b.TempDir()
				for i := 0; b.Loop(); i++ {
					tr := fstree.New(fstree.Options{TempDir: tmp})
					if _, err := Unpack(context.Background(), bytes.NewReader(deb), "payload", tr, UnpackOptions{}); err != nil {
						b.Fatal(err)
					}
					out := filepath.Join(tmp, "out")
					if err := tr.WriteDir(out, fstree.DirOptions{IgnoreOwnership: true}); err != nil {
						b.Fatal(err)
					}
					tr.Close()
					os.RemoveAll(out)
				}
			})
		}
	}
	for _, ref := range []struct{ name, comp, prog string }{{"ref-zstd-tar", ".zst", "zstd"}, {"ref-xz-tar", ".xz", "xz"}} {
		if !haveProgram(ref.prog) || !haveProgram("tar") {
			continue
		}
		b.Run(ref.name, func(b *testing.B) {
			tmp := b.TempDir()
			data := filepath.Join(tmp, "data.tar"+ref.comp)
			compressed := debtest.Compressed(b, ref.comp, debtest.Tar(b, es...))
			if ref.comp == ".xz" {
				compressed = xzProgram(b, debtest.Tar(b, es...))
			}
			if err := os.WriteFile(data, compressed, 0o644); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(size)
			out := filepath.Join(tmp, "out")
			for b.Loop() {
				os.Mkdir(out, 0o755)
				cmd := exec.Command("sh", "-c", ref.prog+` -dc "$1" | tar -x -C "$2"`, "sh", data, out)
				if o, err := cmd.CombinedOutput(); err != nil {
					b.Fatalf("%v: %s", err, o)
				}
				os.RemoveAll(out)
			}
		})
	}
}

// BenchmarkUnpackSet unpacks every .deb of $ROOTFSD_DEB_DIR into one tree
// per iteration, xz members decoded in Go and, when installed, by the xz
// program, and reports the process's peak RSS: content beyond the tree's
// memory budget (fstree.DefaultMemoryMax) must go to the spool. Run it alone (-bench UnpackSet) so the peak is its.
func BenchmarkUnpackSet(b *testing.B) {
	dir := os.Getenv("ROOTFSD_DEB_DIR")
	if dir == "" {
		b.Skip("set ROOTFSD_DEB_DIR to a directory of .deb files")
	}
	debs, _ := filepath.Glob(filepath.Join(dir, "*.deb"))
	for _, xzCmd := range []string{"", "xz"} {
		if xzCmd != "" && !haveProgram(xzCmd) {
			continue
		}
		b.Run("xz="+map[string]string{"": "go", "xz": "program"}[xzCmd], func(b *testing.B) {
			var installed int64
			var nodes int
			var live uint64
			for b.Loop() {
				tr := fstree.New(fstree.Options{TempDir: b.TempDir()})
				installed = 0
				for _, deb := range debs {
					f, err := os.Open(deb)
					if err != nil {
						b.Fatal(err)
					}
					name, _, _ := strings.Cut(filepath.Base(deb), "_")
					opt := UnpackOptions{XZCommand: xzCmd, Replace: func(string, string) error { return nil }}
					u, err := Unpack(context.Background(), f, name, tr, opt)
					f.Close()
					if err != nil {
						b.Fatal(err)
					}
					installed += u.Size
				}
				nodes = 0
				tr.Walk(func(fstree.Info) error { nodes++; return nil })
				runtime.GC()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				live = ms.HeapAlloc
				tr.Close()
			}
			var ru syscall.Rusage
			syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
			b.ReportMetric(float64(ru.Maxrss)/1024, "peak-RSS-MiB")
			b.ReportMetric(float64(installed)/(1<<20), "content-MiB")
			b.ReportMetric(float64(nodes), "paths")
			b.ReportMetric(float64(live)/(1<<20), "tree-heap-MiB")
			b.ReportMetric(float64(len(debs)), "packages")
			b.SetBytes(installed)
		})
	}
}
