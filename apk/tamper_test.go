package apk

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto"
	"errors"
	"strings"
	"testing"
)

const tinyIndex = "C:Q1AYNx2pLOAHRYZQgv3nM8TNtvRWY=\nP:hello\nV:1.0-r0\nA:x86_64\nS:1\nI:1\n\n"

func TestIndexTamper(t *testing.T) {
	a, b := testSigners(t)
	real := readFixture(t, isoRepo+"/APKINDEX.tar.gz")
	_, sigEnd, err := gzipMember(real, 1<<20, "test")
	if err != nil {
		t.Fatal(err)
	}
	flipped := bytes.Clone(real)
	flipped[sigEnd+len(real[sigEnd:])/2] ^= 0x01

	body := gzipBytes(t, tarBytes(t, true, tarFile{name: "APKINDEX", data: []byte(tinyIndex), mode: 0644}))
	for _, tc := range []struct {
		name string
		data []byte
		keys *Keyring
		want error
		text string
	}{
		{"signed by an untrusted key", buildIndex(t, b, crypto.SHA1, tinyIndex), a.keyring(t), ErrUntrustedKey, "test-b.rsa.pub"},
		{"upstream index, wrong architecture's keys", real, mustKeyring(t, "aarch64"), ErrUntrustedKey, "6165ee59"},
		{"a changed byte", flipped, AllKeys(), ErrBadSignature, "6165ee59"},
		{"no signature", body, a.keyring(t), ErrUnsigned, "APKINDEX"},
		{"signature only", a.signMember(t, body, crypto.SHA1), a.keyring(t), ErrFormat, "nothing after"},
		{"not gzip", []byte("hello"), a.keyring(t), ErrFormat, "gzip"},
		{"signature over other content", append(a.signMember(t, []byte("x"), crypto.SHA256), body...), a.keyring(t), ErrBadSignature, "SHA-256"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadIndex(tc.data, tc.keys, Limits{})
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.text) {
				t.Errorf("error %q lacks %q", err, tc.text)
			}
		})
	}
	// Both signature algorithms verify.
	for _, h := range []crypto.Hash{crypto.SHA1, crypto.SHA256} {
		idx, err := ReadIndex(buildIndex(t, a, h, tinyIndex), a.keyring(t), Limits{})
		if err != nil {
			t.Fatalf("%v: %v", h, err)
		}
		if idx.Signer != "test-a.rsa.pub" || idx.Description != "test" || len(idx.Packages) != 1 {
			t.Errorf("%v: %+v", h, idx)
		}
	}
}

func mustKeyring(t *testing.T, arch string) *Keyring {
	k, err := DefaultKeyring(arch)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// hello builds the test package used by the tamper tests.
func hello(t *testing.T, s *testSigner, files ...tarFile) builtAPK {
	if files == nil {
		files = []tarFile{{name: "usr/", typ: tar.TypeDir, mode: 0755}, {name: "usr/hello", data: []byte("hi\n"), mode: 0644}}
	}
	return buildAPK(t, s, crypto.SHA1, testAPK{pkginfo: "pkgname = hello\npkgver = 1.0-r0\n", files: files})
}

func TestPackageTamper(t *testing.T) {
	a, b := testSigners(t)
	good := hello(t, a)
	other := buildAPK(t, a, crypto.SHA1, testAPK{pkginfo: "pkgname = hello\npkgver = 1.0-r1\n",
		files: []tarFile{{name: "usr/", typ: tar.TypeDir, mode: 0755}, {name: "usr/hello", data: []byte("ho\n"), mode: 0644}}})
	sig := good.data[:len(good.data)-len(good.control)-len(good.body)]
	join := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

	// The signature entry with one bit of the RSA signature flipped.
	badSig := func() []byte {
		sigTar, _, err := gzipMember(sig, 1<<20, "test")
		if err != nil {
			t.Fatal(err)
		}
		sigTar = bytes.Clone(sigTar)
		sigTar[512+100] ^= 0x80 // inside the first block of the entry's data
		return gzipBytes(t, sigTar)
	}()
	wrongSum := hello(t, a, tarFile{name: "usr/", typ: tar.TypeDir, mode: 0755},
		tarFile{name: "usr/hello", data: []byte("hi\n"), mode: 0644, pax: map[string]string{paxChecksum: sha1Hex([]byte("other"))}})
	noSum := hello(t, a, tarFile{name: "usr/", typ: tar.TypeDir, mode: 0755},
		tarFile{name: "usr/hello", data: []byte("hi\n"), mode: 0644, noSum: true})
	escape := hello(t, a, tarFile{name: "../etc/passwd", data: []byte("x"), mode: 0644})
	absolute := hello(t, a, tarFile{name: "/etc/passwd", data: []byte("x"), mode: 0644})
	badLink := hello(t, a, tarFile{name: "usr/", typ: tar.TypeDir, mode: 0755},
		tarFile{name: "usr/x", typ: tar.TypeLink, link: "usr/missing"})

	for _, tc := range []struct {
		name string
		data []byte
		want Expect
		keys *Keyring
		err  error
		text string
	}{
		{"good", good.data, Expect{Checksum: good.checksum, Size: int64(len(good.data))}, a.keyring(t), nil, ""},
		{"control changed (index checksum)", join(sig, other.control, good.body), Expect{Checksum: good.checksum}, a.keyring(t), ErrChecksum, "control member"},
		{"control changed (signature)", join(sig, other.control, good.body), Expect{}, a.keyring(t), ErrBadSignature, "test-a.rsa.pub"},
		{"data changed", join(sig, good.control, other.body), Expect{Checksum: good.checksum}, a.keyring(t), ErrChecksum, "datahash"},
		{"signature changed", join(badSig, good.control, good.body), Expect{Checksum: good.checksum}, a.keyring(t), ErrBadSignature, "does not verify"},
		{"untrusted signer", good.data, Expect{Checksum: good.checksum}, b.keyring(t), ErrUntrustedKey, "test-a.rsa.pub"},
		{"unsigned", join(good.control, good.body), Expect{}, a.keyring(t), ErrUnsigned, ".PKGINFO"},
		{"wrong size", good.data, Expect{Checksum: good.checksum, Size: 5}, a.keyring(t), ErrChecksum, "the index says 5"},
		{"wrong name", good.data, Expect{Checksum: good.checksum, Name: "bye", Version: "1.0-r0"}, a.keyring(t), ErrChecksum, ".PKGINFO names hello-1.0-r0"},
		{"trailing bytes", join(good.data, []byte("x")), Expect{Checksum: good.checksum}, a.keyring(t), ErrFormat, "data member"},
		{"truncated", good.data[:len(good.data)-10], Expect{Checksum: good.checksum}, a.keyring(t), ErrFormat, ""},
		{"file checksum wrong", wrongSum.data, Expect{}, a.keyring(t), ErrChecksum, "usr/hello: checksum mismatch"},
		{"file checksum missing", noSum.data, Expect{}, a.keyring(t), ErrChecksum, "no APK-TOOLS.checksum.SHA1"},
		{"path escapes", escape.data, Expect{}, a.keyring(t), ErrFormat, "unsafe path"},
		{"absolute path", absolute.data, Expect{}, a.keyring(t), ErrFormat, "unsafe path"},
		{"hard link to nothing", badLink.data, Expect{}, a.keyring(t), ErrFormat, "hard link target"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := VerifyPackage(context.Background(), bytes.NewReader(tc.data), tc.keys, tc.want, Limits{})
			if tc.err == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, tc.err) {
				t.Fatalf("got %v, want %v", err, tc.err)
			}
			if !strings.Contains(err.Error(), tc.text) {
				t.Errorf("error %q lacks %q", err, tc.text)
			}
		})
	}
}

// Bit flips anywhere in a real package are caught, whatever layer notices.
func TestRealPackageBitFlips(t *testing.T) {
	data := readFixture(t, isoRepo+"/zlib-1.3.1-r0.apk")
	keys := AllKeys()
	want := Expect{Checksum: "Q11mV5+Yq5WHkhWIJP27rBrg7izKg=", Size: 53932}
	if _, err := VerifyPackage(context.Background(), bytes.NewReader(data), keys, want, Limits{}); err != nil {
		t.Fatal(err)
	}
	for off := 0; off < len(data); off += 997 {
		bad := bytes.Clone(data)
		bad[off] ^= 0x10
		_, err := VerifyPackage(context.Background(), bytes.NewReader(bad), keys, want, Limits{})
		if err == nil {
			t.Fatalf("flip at %d not detected", off)
		}
		if !errors.Is(err, ErrChecksum) && !errors.Is(err, ErrFormat) && !errors.Is(err, ErrBadSignature) &&
			!errors.Is(err, ErrUnsigned) && !errors.Is(err, ErrUntrustedKey) {
			t.Errorf("flip at %d: unclassified error %v", off, err)
		}
	}
}

func TestLimits(t *testing.T) {
	a, _ := testSigners(t)
	idx := buildIndex(t, a, crypto.SHA1, tinyIndex+tinyIndex)
	bomb := buildIndex(t, a, crypto.SHA1, tinyIndex+strings.Repeat("\n", 1<<20))
	long := buildIndex(t, a, crypto.SHA1, "C:Q1AYNx2pLOAHRYZQgv3nM8TNtvRWY=\nP:hello\nT:"+strings.Repeat("x", 5000)+"\nV:1\n\n")
	for _, tc := range []struct {
		name string
		data []byte
		lim  Limits
	}{
		{"file size", idx, Limits{IndexSize: 100}},
		{"records", idx, Limits{Records: 1}},
		{"decompression ratio", bomb, Limits{IndexRatio: 10}},
		{"text size", bomb, Limits{IndexTextSize: 1000}},
		{"line length", long, Limits{LineLength: 1000}},
	} {
		if _, err := ReadIndex(tc.data, a.keyring(t), tc.lim); !errors.Is(err, ErrTooLarge) {
			t.Errorf("index %s: got %v, want ErrTooLarge", tc.name, err)
		}
	}
	pkg := hello(t, a)
	for _, tc := range []struct {
		name string
		lim  Limits
	}{
		{"package size", Limits{PackageSize: 100}},
		{"data size", Limits{DataSize: 600}},
		{"entries", Limits{Entries: 1}},
		{"path length", Limits{PathLength: 5}},
		{"control size", Limits{ControlSize: 100}},
	} {
		_, err := VerifyPackage(context.Background(), bytes.NewReader(pkg.data), a.keyring(t), Expect{}, tc.lim)
		if !errors.Is(err, ErrTooLarge) {
			t.Errorf("package %s: got %v, want ErrTooLarge", tc.name, err)
		}
	}
}
