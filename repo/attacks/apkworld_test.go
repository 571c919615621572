package attacks_test

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
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rootfsd/rootfsd/apk"
)

// The Alpine side: tiny repositories signed with throw-away RSA keys in
// the format abuild writes (signature member, control member, data member;
// APKINDEX.tar.gz with its signature member), and the real upstream
// fixtures of ../shared/fixtures/alpine.

// apkSigner is an RSA key known by its file name, as apk keys are.
type apkSigner struct {
	name string
	key  *rsa.PrivateKey
}

var apkSigners = sync.OnceValue(func() [3]*apkSigner {
	var out [3]*apkSigner
	for i, n := range []string{"archive-5f000001.rsa.pub", "attacker-5f000002.rsa.pub", "thirdparty-5f000003.rsa.pub"} {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		out[i] = &apkSigner{name: n, key: k}
	}
	return out
})

func apkArchive() *apkSigner    { return apkSigners()[0] }
func apkAttacker() *apkSigner   { return apkSigners()[1] }
func apkThirdParty() *apkSigner { return apkSigners()[2] }

// keyFile writes the public key as apk expects it and returns the path.
func (s *apkSigner) keyFile(t testing.TB) string {
	der, err := x509.MarshalPKIXPublicKey(&s.key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), s.name)
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func (s *apkSigner) keyring(t testing.TB) *apk.Keyring {
	k := apk.NewKeyring()
	if err := k.AddFile(s.keyFile(t)); err != nil {
		t.Fatal(err)
	}
	return k
}

// sign returns the signature member over content (SHA-1, as abuild).
func (s *apkSigner) sign(t testing.TB, content []byte) []byte {
	d := sha1.Sum(content)
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA1, d[:])
	if err != nil {
		t.Fatal(err)
	}
	return gz(t, tarOf(t, false, time.Unix(0, 0), apkEntry{name: ".SIGN.RSA." + s.name, data: sig}))
}

// apkEntry is one tar entry of a package or index.
type apkEntry struct {
	name  string
	data  []byte
	typ   byte
	mode  int64
	link  string
	pax   map[string]string
	noSum bool // no APK-TOOLS.checksum.SHA1 record
	size  int64
}

func tarOf(t testing.TB, end bool, mtime time.Time, entries ...apkEntry) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range entries {
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		mode := e.mode
		if mode == 0 {
			mode = 0o644
		}
		h := &tar.Header{Typeflag: typ, Name: e.name, Mode: mode, Linkname: e.link, Uname: "root", Gname: "root",
			ModTime: mtime, Format: tar.FormatPAX, PAXRecords: e.pax}
		if typ == tar.TypeReg {
			h.Size = int64(len(e.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write(e.data)
	}
	if err := tw.Flush(); err != nil {
		t.Fatal(err)
	}
	if end {
		tw.Close()
	}
	return b.Bytes()
}

func gz(t testing.TB, data []byte) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write(data)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// apkPkg describes a package; built is what an index says about it.
type apkPkg struct {
	name, version, depends, provides string
	installIf                        string
	entries                          []apkEntry
	// rawData replaces entries with a hand-made data tar (hostile
	// headers that archive/tar does not write).
	rawData []byte
	signer  *apkSigner // default apkArchive()
}

type builtAPK struct {
	apkPkg
	data     []byte
	checksum string // C:
}

// buildAPK makes a signed .apk the way abuild does.
func buildAPK(t testing.TB, p apkPkg) builtAPK {
	t.Helper()
	var data []apkEntry
	for _, e := range p.entries {
		if e.pax == nil && !e.noSum {
			switch e.typ {
			case 0, tar.TypeReg:
				e.pax = map[string]string{"APK-TOOLS.checksum.SHA1": sha1Hex(e.data)}
			case tar.TypeSymlink:
				e.pax = map[string]string{"APK-TOOLS.checksum.SHA1": sha1Hex([]byte(e.link))}
			}
		}
		data = append(data, e)
	}
	body := gz(t, tarOf(t, true, time.Unix(1700000000, 0), data...))
	if p.rawData != nil {
		body = gz(t, p.rawData)
	}
	dh := sha256.Sum256(body)
	info := fmt.Sprintf("pkgname = %s\npkgver = %s\narch = x86_64\nsize = 100\norigin = %s\n", p.name, p.version, p.name)
	for _, d := range strings.Fields(p.depends) {
		info += "depend = " + d + "\n"
	}
	for _, d := range strings.Fields(p.provides) {
		info += "provides = " + d + "\n"
	}
	if p.installIf != "" {
		info += "install_if = " + p.installIf + "\n"
	}
	info += "datahash = " + hex.EncodeToString(dh[:]) + "\n"
	control := gz(t, tarOf(t, false, time.Unix(1700000000, 0), apkEntry{name: ".PKGINFO", data: []byte(info)}))
	signer := p.signer
	if signer == nil {
		signer = apkArchive()
	}
	sum := sha1.Sum(control)
	out := append(append(signer.sign(t, control), control...), body...)
	return builtAPK{apkPkg: p, data: out, checksum: "Q1" + base64.StdEncoding.EncodeToString(sum[:])}
}

func sha1Hex(b []byte) string {
	s := sha1.Sum(b)
	return hex.EncodeToString(s[:])
}

// indexText is the APKINDEX record of each package.
func indexText(pkgs []builtAPK) string {
	var b strings.Builder
	for _, p := range pkgs {
		fmt.Fprintf(&b, "C:%s\nP:%s\nV:%s\nA:x86_64\nS:%d\nI:100\nT:%s\nL:MIT\no:%s\n", p.checksum, p.name, p.version, len(p.data), p.name, p.name)
		if p.depends != "" {
			b.WriteString("D:" + p.depends + "\n")
		}
		if p.provides != "" {
			b.WriteString("p:" + p.provides + "\n")
		}
		if p.installIf != "" {
			b.WriteString("i:" + p.installIf + "\n")
		}
		b.WriteString("\n")
	}
	return b.String()
}

// buildIndex makes a signed APKINDEX.tar.gz of text dated date.
func buildIndex(t testing.TB, s *apkSigner, date time.Time, text string) []byte {
	body := gz(t, tarOf(t, true, date,
		apkEntry{name: "DESCRIPTION", data: []byte("attack-suite")}, apkEntry{name: "APKINDEX", data: []byte(text)}))
	return append(s.sign(t, body), body...)
}

// apkRepo is a repository's files below the mirror root, at prefix.
func apkRepo(t testing.TB, prefix string, s *apkSigner, date time.Time, pkgs ...apkPkg) (map[string][]byte, []builtAPK) {
	files := map[string][]byte{}
	var built []builtAPK
	for _, p := range pkgs {
		b := buildAPK(t, p)
		built = append(built, b)
		files[prefix+"/x86_64/"+p.name+"-"+p.version+".apk"] = b.data
	}
	files[prefix+"/x86_64/APKINDEX.tar.gz"] = buildIndex(t, s, date, indexText(built))
	return files, built
}

func appPkgs(appVersion string) []apkPkg {
	return []apkPkg{
		{name: "libz", version: "1.3-r0", provides: "so:libz.so.1=1", entries: []apkEntry{
			{name: "lib/", typ: tar.TypeDir, mode: 0o755}, {name: "lib/libz.so.1", data: []byte("libz 1.3")}}},
		{name: "app", version: appVersion, depends: "so:libz.so.1", entries: []apkEntry{
			{name: "usr/", typ: tar.TypeDir, mode: 0o755}, {name: "usr/bin/", typ: tar.TypeDir, mode: 0o755},
			{name: "usr/bin/app", data: []byte("app " + appVersion), mode: 0o755}}},
	}
}
