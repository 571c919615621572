package apk

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Every shipped fixture .apk verifies against its index: signature, C:,
// S:, datahash and the SHA-1 of each file.
func TestVerifyFixturePackages(t *testing.T) {
	keys, err := DefaultKeyring("x86_64")
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, rel := range []string{isoRepo, "v3.19/main/x86_64"} {
		idx := fixtureIndex(t, rel)
		byFile := map[string]*Package{}
		for i := range idx.Packages {
			byFile[idx.Packages[i].Filename()] = &idx.Packages[i]
		}
		files, err := filepath.Glob(filepath.Join(fixture(t, rel), "*.apk"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			p := byFile[filepath.Base(f)]
			if p == nil {
				t.Errorf("%s: not in the index", f)
				continue
			}
			fh, err := os.Open(f)
			if err != nil {
				t.Fatal(err)
			}
			pf, err := VerifyPackage(context.Background(), fh, keys,
				Expect{Checksum: p.Checksum, Size: p.Size, Name: p.Name, Version: p.Version}, Limits{})
			fh.Close()
			if err != nil {
				t.Errorf("%s: %v", filepath.Base(f), err)
				continue
			}
			if keyID(pf.Signer) != "6165ee59" {
				t.Errorf("%s: signed by %s", p.ID(), pf.Signer)
			}
			if pf.Info.Arch != p.Arch && pf.Info.Arch != "noarch" {
				t.Errorf("%s: .PKGINFO arch %s, index %s", p.ID(), pf.Info.Arch, p.Arch)
			}
			if pf.Info.Size != p.InstalledSize {
				t.Errorf("%s: .PKGINFO size %d, index I: %d", p.ID(), pf.Info.Size, p.InstalledSize)
			}
			if got, want := FormatDeps(pf.Info.Depends), FormatDeps(p.Depends); got != want {
				t.Errorf("%s: .PKGINFO depends %q, index %q", p.ID(), got, want)
			}
			total++
		}
	}
	if total != 25+14 {
		t.Errorf("verified %d packages, want 39", total)
	}
}

func TestReadPackageEntries(t *testing.T) {
	keys := AllKeys()
	f, err := os.Open(fixture(t, isoRepo+"/busybox-1.36.1-r15.apk"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var seen []string
	content := map[string][]byte{}
	pf, err := ReadPackage(context.Background(), f, keys, Expect{Checksum: "Q1AYNx2pLOAHRYZQgv3nM8TNtvRWY="}, Limits{},
		func(hdr *tar.Header, r io.Reader) error {
			seen = append(seen, hdr.Name)
			if hdr.Name == "bin/busybox" || hdr.Name == "etc/securetty" {
				b, err := io.ReadAll(r)
				content[hdr.Name] = b
				return err
			}
			return nil // the rest is drained by ReadPackage
		})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != len(pf.Entries) {
		t.Errorf("fn saw %d entries, Entries has %d", len(seen), len(pf.Entries))
	}
	for _, n := range seen {
		if strings.HasPrefix(n, ".") || strings.HasSuffix(n, "/") {
			t.Errorf("entry %q passed on", n)
		}
	}
	if len(content["bin/busybox"]) != 808712 {
		t.Errorf("bin/busybox: %d bytes", len(content["bin/busybox"]))
	}
	var scripts []string
	for _, s := range pf.Scripts {
		scripts = append(scripts, s.Name)
	}
	if diff := cmp.Diff([]string{"post-install", "post-upgrade", "trigger"}, scripts, cmpSortStrings); diff != "" {
		t.Errorf("scripts (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"/bin", "/usr/bin", "/sbin", "/usr/sbin", "/lib/modules/*"}, pf.Info.Triggers); diff != "" {
		t.Errorf("triggers (-want +got):\n%s", diff)
	}
}

// A meta package installs nothing: its only data entry is .dummy.
func TestReadMetaPackage(t *testing.T) {
	f, err := os.Open(fixture(t, isoRepo+"/alpine-base-3.19.1-r0.apk"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pf, err := ReadPackage(context.Background(), f, AllKeys(), Expect{}, Limits{}, func(hdr *tar.Header, _ io.Reader) error {
		t.Errorf("entry %q passed on", hdr.Name)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(pf.Entries) != 0 {
		t.Errorf("entries: %v", pf.Entries)
	}
}

func TestReadPackageBuilt(t *testing.T) {
	a, _ := testSigners(t)
	for _, h := range []crypto.Hash{crypto.SHA1, crypto.SHA256} {
		apk := buildAPK(t, a, h, testAPK{
			pkginfo: "pkgname = hello\npkgver = 1.0-r0\n# comment\ntriggers = /usr/share/x\n",
			scripts: map[string]string{".post-install": "#!/bin/sh\n", ".unknown": "x"},
			files: []tarFile{
				{name: "usr/", typ: tar.TypeDir, mode: 0755},
				{name: "usr/bin/", typ: tar.TypeDir, mode: 0755},
				{name: "usr/bin/hello", data: []byte("hi\n"), mode: 0755,
					pax: map[string]string{paxChecksum: sha1Hex([]byte("hi\n")), "SCHILY.xattr.user.a": "1"}},
				{name: "usr/bin/hi", typ: tar.TypeLink, link: "usr/bin/hello"},
				{name: "usr/bin/hey", typ: tar.TypeSymlink, link: "hello", mode: 0777},
				{name: "usr/bin/.keep_usr", data: nil, mode: 0644},
				{name: ".dummy", data: nil, mode: 0644, noSum: true},
			},
		})
		pf, err := VerifyPackage(context.Background(), bytes.NewReader(apk.data), a.keyring(t),
			Expect{Checksum: apk.checksum, Size: int64(len(apk.data)), Name: "hello", Version: "1.0-r0"}, Limits{})
		if err != nil {
			t.Fatalf("%v: %v", h, err)
		}
		var got []string
		for _, e := range pf.Entries {
			got = append(got, e.Header.Name+" "+e.Checksum+" "+e.XattrChecksum)
		}
		hello := FormatQ1(mustHex(t, sha1Hex([]byte("hi\n"))))
		want := []string{
			"usr  ", "usr/bin  ",
			"usr/bin/hello " + hello + " " + xattrChecksum(map[string]string{"SCHILY.xattr.user.a": "1"}),
			"usr/bin/hi " + hello + " ",
			"usr/bin/hey " + FormatQ1(mustHex(t, sha1Hex([]byte("hello")))) + " ",
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%v entries (-want +got):\n%s", h, diff)
		}
		if len(pf.Scripts) != 1 || pf.Scripts[0].Name != "post-install" {
			t.Errorf("scripts: %+v", pf.Scripts)
		}
	}
}
