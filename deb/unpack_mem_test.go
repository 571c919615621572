package deb

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/rootfsd/rootfsd/deb/internal/debtest"
	"github.com/rootfsd/rootfsd/repo/fstree"
)

// TestUnpackInMemory: a .deb in memory with an uncompressed data.tar (what
// the prefetchers hand the unpacker) gives the same tree as streaming it,
// with the large files' bytes lent by the buffer rather than copied or
// spooled, and every odd case of the tar read through as usual.
func TestUnpackInMemory(t *testing.T) {
	long := "./usr/share/" + strings.Repeat("a-long-directory-name/", 6) + "file"
	data := append(asmDirs("usr/bin", "usr/share/"+strings.Repeat("a-long-directory-name/", 6)),
		asmFile("./usr/bin/big", strings.Repeat("0123456789", 1000)+"odd"),
		asmFile("./usr/bin/small", "tiny"),
		asmFile("./usr/bin/empty", ""),
		asmFile(long, strings.Repeat("x", 5001)),
		debtest.DebEntry{Name: "./usr/bin/hard", Type: tar.TypeLink, Link: "./usr/bin/big"},
		asmLink("./usr/bin/sym", "big"),
		asmFile("./usr/bin/last", strings.Repeat("z", 3000)),
	)
	deb := debtest.MakeDeb(t, debtest.Deb{Package: "mem", Data: data, ControlCompression: ".gz"})
	buf := bytes.Clone(deb)
	unpack := func(r interface{ Read([]byte) (int, error) }) *fstree.Tree {
		tr := fstree.New(fstree.Options{TempDir: t.TempDir()})
		t.Cleanup(func() { tr.Close() })
		if _, err := Unpack(context.Background(), r, "mem", tr, UnpackOptions{}); err != nil {
			t.Fatal(err)
		}
		return tr
	}
	streamed, lent := unpack(bytes.NewReader(deb)), unpack(newMemDeb(buf))
	if got, want := dumpTree(t, lent), dumpTree(t, streamed); got != want {
		t.Errorf("in memory:\n%s\nstreamed:\n%s", got, want)
	}
	// Lent, not copied: the tree reads the buffer's bytes.
	at := bytes.Index(buf, []byte("0123456789"))
	copy(buf[at:], "LENT")
	if got := readTree(t, lent, "usr/bin/big"); !strings.HasPrefix(got, "LENT456789") {
		t.Errorf("usr/bin/big starts %q after the buffer changed: copied, not lent", got[:10])
	}
	if got := readTree(t, streamed, "usr/bin/big"); !strings.HasPrefix(got, "0123456789") {
		t.Errorf("streamed usr/bin/big starts %q", got[:10])
	}
}

// dumpTree renders every path with its kind, mode, owner, link and content.
func dumpTree(t *testing.T, tr *fstree.Tree) string {
	t.Helper()
	var b strings.Builder
	err := tr.Walk(func(i fstree.Info) error {
		fmt.Fprintf(&b, "%s %v %o %d:%d %s %s", i.Path, i.Kind, i.Mode, i.UID, i.GID, i.Target, i.Link)
		if i.Kind == fstree.KindFile && i.Link == "" {
			c, err := tr.ReadFile(i.Path)
			if err != nil {
				return err
			}
			fmt.Fprintf(&b, " %d %q", len(c), c[:min(len(c), 12)])
		}
		b.WriteByte('\n')
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}
