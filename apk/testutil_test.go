package apk

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"io"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp/cmpopts"
)

var cmpSortStrings = cmpopts.SortSlices(func(a, b string) bool { return a < b })

// indexText returns the APKINDEX text of a fixture index, read without
// verification (tests compare against it).
func indexText(t testing.TB, rel string) string {
	t.Helper()
	data := readFixture(t, rel+"/APKINDEX.tar.gz")
	_, n, err := gzipMember(data, 1<<20, "test")
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(data[n:]))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	for {
		hdr, err := tr.Next()
		if err != nil {
			t.Fatalf("%s: no APKINDEX: %v", rel, err)
		}
		if hdr.Name == "APKINDEX" {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
	}
}

// testSigner is a throw-away RSA key for tiny signed repositories.
type testSigner struct {
	name string // key file name, as signatures name it
	key  *rsa.PrivateKey
}

var testKeys = struct {
	once sync.Once
	a, b *testSigner
}{}

// testSigners returns two 2048-bit keys, generated once per test binary.
func testSigners(t testing.TB) (*testSigner, *testSigner) {
	testKeys.once.Do(func() {
		gen := func(name string) *testSigner {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			return &testSigner{name: name, key: k}
		}
		testKeys.a, testKeys.b = gen("test-a.rsa.pub"), gen("test-b.rsa.pub")
	})
	return testKeys.a, testKeys.b
}

func (s *testSigner) publicPEM(t testing.TB) []byte {
	der, err := x509.MarshalPKIXPublicKey(&s.key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func (s *testSigner) keyring(t testing.TB) *Keyring {
	k := NewKeyring()
	if err := k.Add(s.name, s.publicPEM(t)); err != nil {
		t.Fatal(err)
	}
	return k
}

// signMember returns the gzip member holding the signature of content,
// a tar with one entry and no end-of-archive blocks, as abuild writes it.
func (s *testSigner) signMember(t testing.TB, content []byte, h crypto.Hash) []byte {
	t.Helper()
	var digest []byte
	if h == crypto.SHA256 {
		d := sha256.Sum256(content)
		digest = d[:]
	} else {
		d := sha1.Sum(content)
		digest = d[:]
	}
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.key, h, digest)
	if err != nil {
		t.Fatal(err)
	}
	prefix := ".SIGN.RSA."
	if h == crypto.SHA256 {
		prefix = ".SIGN.RSA256."
	}
	return gzipBytes(t, tarBytes(t, false, tarFile{name: prefix + s.name, data: sig, mode: 0644}))
}

type tarFile struct {
	name     string
	data     []byte
	mode     int64
	typ      byte // 0 is a regular file
	link     string
	uid, gid int
	pax      map[string]string
	noSum    bool // leave out APK-TOOLS.checksum.SHA1
}

// tarBytes writes entries as a tar; end adds the end-of-archive blocks
// (abuild's signature and control tars have none).
func tarBytes(t testing.TB, end bool, files ...tarFile) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		typ := f.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		hdr := &tar.Header{Typeflag: typ, Name: f.name, Mode: f.mode, Uid: f.uid, Gid: f.gid,
			Uname: "root", Gname: "root", Linkname: f.link, ModTime: time.Unix(1700000000, 0),
			Format: tar.FormatPAX, PAXRecords: f.pax}
		if typ == tar.TypeReg {
			hdr.Size = int64(len(f.data))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if typ == tar.TypeReg {
			if _, err := tw.Write(f.data); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Flush(); err != nil {
		t.Fatal(err)
	}
	if end {
		if err := tw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func gzipBytes(t testing.TB, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// buildIndex makes a signed APKINDEX.tar.gz of the given APKINDEX text.
func buildIndex(t testing.TB, s *testSigner, h crypto.Hash, text string) []byte {
	t.Helper()
	body := gzipBytes(t, tarBytes(t, true,
		tarFile{name: "DESCRIPTION", data: []byte("test"), mode: 0644},
		tarFile{name: "APKINDEX", data: []byte(text), mode: 0644}))
	return append(s.signMember(t, body, h), body...)
}

// testAPK describes a package to build with buildAPK.
type testAPK struct {
	pkginfo string // .PKGINFO without datahash (added)
	scripts map[string]string
	files   []tarFile
}

// builtAPK is a package file and what an index would say about it.
type builtAPK struct {
	data     []byte
	checksum string // C:
	control  []byte // raw compressed control member
	body     []byte // raw compressed data member
}

// buildAPK makes a signed .apk: signature, control and data members. Data
// entries get APK-TOOLS.checksum.SHA1 records unless noSum is set.
func buildAPK(t testing.TB, s *testSigner, h crypto.Hash, p testAPK) builtAPK {
	t.Helper()
	var files []tarFile
	for _, f := range p.files {
		if f.pax == nil && !f.noSum {
			switch f.typ {
			case 0, tar.TypeReg:
				f.pax = map[string]string{"APK-TOOLS.checksum.SHA1": sha1Hex(f.data)}
			case tar.TypeSymlink:
				f.pax = map[string]string{"APK-TOOLS.checksum.SHA1": sha1Hex([]byte(f.link))}
			}
		}
		files = append(files, f)
	}
	body := gzipBytes(t, tarBytes(t, true, files...))
	dh := sha256.Sum256(body)
	ctl := []tarFile{{name: ".PKGINFO", data: []byte(p.pkginfo + "datahash = " + hex.EncodeToString(dh[:]) + "\n"), mode: 0644}}
	names := make([]string, 0, len(p.scripts))
	for n := range p.scripts {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		ctl = append(ctl, tarFile{name: n, data: []byte(p.scripts[n]), mode: 0755})
	}
	control := gzipBytes(t, tarBytes(t, false, ctl...))
	sum := sha1.Sum(control)
	var data []byte
	data = append(data, s.signMember(t, control, h)...)
	data = append(data, control...)
	data = append(data, body...)
	return builtAPK{data: data, checksum: FormatQ1(sum[:]), control: control, body: body}
}

func sha1Hex(b []byte) string {
	s := sha1.Sum(b)
	return hex.EncodeToString(s[:])
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
