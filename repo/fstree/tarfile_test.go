package fstree

import (
	"archive/tar"
	"bytes"
	"io"
	"strings"
	"testing"
)

// FuzzTarFile: a tar read through TarFile, its contents referred to in
// place, gives the same tree as the same tar streamed and copied; or both
// fail. The tar sits at an offset inside a larger buffer, as a data.tar
// does in a .deb.
func FuzzTarFile(f *testing.F) {
	var sampleTar bytes.Buffer
	tr := New(Options{TempDir: f.TempDir()})
	for _, e := range sample() {
		tr.Add(e.header(), strings.NewReader(e.body), "")
	}
	tr.Add(&tar.Header{Name: "big", Typeflag: tar.TypeReg, Mode: 0o644, Size: 5000}, bytes.NewReader(bytes.Repeat([]byte("b"), 5000)), "")
	tr.WriteTar(&sampleTar, TarOptions{Root: true})
	tr.Close()
	f.Add(sampleTar.Bytes(), uint16(7))
	f.Add(hostileTar(&tar.Header{Name: "x", Typeflag: tar.TypeReg, Size: 3000}, &tar.Header{Name: "y", Typeflag: tar.TypeReg, Size: 10}), uint16(0))
	f.Fuzz(func(t *testing.T, data []byte, pad uint16) {
		buf := append(bytes.Repeat([]byte{0xee}, int(pad%600)), data...)
		buf = append(buf, 0xee, 0xee)
		streamed := New(Options{InlineMax: 16, MemoryMax: -1})
		defer streamed.Close()
		errS := streamed.ReadTar(bytes.NewReader(data), "")
		inPlace := New(Options{InlineMax: 16, MemoryMax: -1})
		defer inPlace.Close()
		tf := NewTarFile(bytes.NewReader(buf), int64(pad%600), int64(len(data)))
		trd := tar.NewReader(tf)
		var errP error
		for {
			hdr, err := trd.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				errP = err
				break
			}
			if hdr.Typeflag == tar.TypeXGlobalHeader {
				continue
			}
			if _, err := inPlace.Add(hdr, tf.Content(trd, hdr), ""); err != nil {
				errP = err
				break
			}
		}
		if (errS == nil) != (errP == nil) {
			t.Fatalf("streamed: %v; in place: %v", errS, errP)
		}
		if errS != nil {
			return
		}
		var a, b bytes.Buffer
		if err := streamed.WriteTar(&a, TarOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := inPlace.WriteTar(&b, TarOptions{}); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Fatal("the tree read in place differs from the streamed one")
		}
	})
}
