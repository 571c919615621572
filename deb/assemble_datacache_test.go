package deb

import (
	"bytes"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/rootfsd/rootfsd/deb/internal/debtest"
	"github.com/rootfsd/rootfsd/repo"
)

// TestAssembleDataCache: with a DataCache the first assembly keeps every
// package's decoded data.tar; a second one reads them instead of
// decompressing (it succeeds on packages whose compressed data.tar is
// wiped); a damaged cached data.tar is noticed and decoded again.
func TestAssembleDataCache(t *testing.T) {
	var debs []debtest.Deb
	for i, ext := range []string{".zst", ".xz", ".gz", ".zst"} {
		name := "pkg" + string(rune('a'+i))
		debs = append(debs, debtest.Deb{Package: name, Compression: ext,
			Data: append(asmDirs("usr/share/"+name), asmFile("./usr/share/"+name+"/data", strings.Repeat(name, 5000)))})
	}
	plan, open := debtest.Plan(t, nil, debs...)
	cache := debtest.NewCache(t)
	run := func(open func(repo.Planned) (io.ReadCloser, error)) (string, error) {
		t.Helper()
		tr, _, err := assembleWith(t, AssembleOptions{DataCache: cache}, plan, open)
		if err != nil {
			return "", err
		}
		return dumpTree(t, tr), nil
	}
	first, err := run(open)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, p := range plan.Packages {
		v, err := cache.GetMeta(dataCacheNS, p.SHA256)
		digest, _, _ := strings.Cut(string(v), " ")
		if err != nil || !cache.Has(digest) {
			t.Fatalf("%s: no cached data.tar (%q, %v)", p.Name, v, err)
		}
		kept = append(kept, digest)
	}
	wiped := func(p repo.Planned) (io.ReadCloser, error) {
		rc, err := open(p)
		if err != nil {
			return nil, err
		}
		b, _ := io.ReadAll(rc)
		return io.NopCloser(bytes.NewReader(wipeData(t, b))), nil
	}
	if second, err := run(wiped); err != nil || second != first {
		t.Fatalf("from the cache, with the packages' data.tar wiped: %v\n%s\nwant\n%s", err, second, first)
	}
	// The tree refers to the cached files rather than holding copies, and
	// notices when one changes under it.
	tr, _, err := assembleWith(t, AssembleOptions{DataCache: cache}, plan, open)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.CheckRetained(); err != nil {
		t.Fatalf("unchanged cache: %v", err)
	}
	// Replaced under its name by the same bytes, as a concurrent build
	// storing the same data.tar does: still the same content.
	name := cache.Path(kept[0])
	orig, _ := os.ReadFile(name)
	if err := os.WriteFile(name+".new", orig, 0o444); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(name+".new", name); err != nil {
		t.Fatal(err)
	}
	if err := tr.CheckRetained(); err != nil {
		t.Errorf("a cached data.tar replaced by the same bytes: %v", err)
	}
	// Written to in place: the tree's bytes changed.
	tr2, _, err := assembleWith(t, AssembleOptions{DataCache: cache}, plan, open)
	if err != nil {
		t.Fatal(err)
	}
	changed := bytes.Clone(orig)
	changed[len(changed)/3] ^= 1
	if err := os.WriteFile(name, changed, 0o444); err != nil {
		t.Fatal(err)
	}
	if err := tr2.CheckRetained(); err == nil || !strings.Contains(err.Error(), "changed while the tree referred to it") {
		t.Errorf("a cached data.tar written to under the tree: %v", err)
	}
	if err := os.WriteFile(name, orig, 0o444); err != nil {
		t.Fatal(err)
	}
	// A damaged copy fails its verification: decoded again from the
	// package (and kept again), or an error when the package cannot be.
	blob := cache.Path(kept[1])
	good, _ := os.ReadFile(blob)
	bad := bytes.Clone(good)
	bad[len(bad)/2] ^= 0xff
	if err := os.WriteFile(blob, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := run(wiped); err == nil {
		t.Error("a damaged cached data.tar and a wiped package assembled without error")
	}
	if third, err := run(open); err != nil || third != first {
		t.Fatalf("after damage: %v", err)
	}
	if healed, _ := os.ReadFile(blob); !bytes.Equal(healed, good) {
		t.Error("the damaged data.tar was not kept again")
	}
}

// wipeData overwrites the content of a .deb's data.tar member with zeros.
func wipeData(t *testing.T, deb []byte) []byte {
	t.Helper()
	out := bytes.Clone(deb)
	for off := len(arMagic); off+arHeaderSize <= len(out); {
		name := strings.TrimSpace(string(out[off : off+16]))
		size, err := strconv.Atoi(strings.TrimSpace(string(out[off+48 : off+58])))
		if err != nil {
			t.Fatalf("ar header at %d: %v", off, err)
		}
		data := off + arHeaderSize
		if strings.HasPrefix(name, "data.tar") {
			clear(out[data : data+size])
			return out
		}
		off = data + size + size%2
	}
	t.Fatal("no data.tar member")
	return nil
}
