package deb

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/binary"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
)

var (
	oidCN = asn1.ObjectIdentifier{2, 5, 4, 3}
	oidO  = asn1.ObjectIdentifier{2, 5, 4, 10}
	oidOU = asn1.ObjectIdentifier{2, 5, 4, 11}
	oidC  = asn1.ObjectIdentifier{2, 5, 4, 6}
	oidE  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}
	oidSN = asn1.ObjectIdentifier{2, 5, 4, 5}
)

// atv is an attribute with a value of an explicit ASN.1 string type.
func atv(oid asn1.ObjectIdentifier, tag int, value []byte) pkix.AttributeTypeAndValue {
	return pkix.AttributeTypeAndValue{Type: oid, Value: asn1.RawValue{Class: asn1.ClassUniversal, Tag: tag, Bytes: value}}
}

func bmp(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = binary.BigEndian.AppendUint16(b, u)
	}
	return b
}

// testNames are subjects that exercise every rule of the canonical form.
func testNames() map[string]pkix.RDNSequence {
	return map[string]pkix.RDNSequence{
		"printable": {{atv(oidC, asn1.TagPrintableString, []byte("DE"))}, {atv(oidO, asn1.TagPrintableString, []byte("  Some   Org  GmbH "))}, {atv(oidCN, asn1.TagPrintableString, []byte("Root CA"))}},
		"utf8":      {{atv(oidCN, asn1.TagUTF8String, []byte("NetLock Arany (Osztály Főtanúsítvány)"))}},
		"bmp":       {{atv(oidCN, asn1.TagBMPString, bmp("Ωmega\tROOT\n CA"))}},
		"t61":       {{atv(oidO, asn1.TagT61String, []byte("Caf\xe9 Authority"))}},
		"ia5":       {{atv(oidE, asn1.TagIA5String, []byte("Root@Example.ORG"))}, {atv(oidCN, asn1.TagUTF8String, []byte("x"))}},
		"multi":     {{atv(oidOU, asn1.TagUTF8String, []byte("Zeta")), atv(oidCN, asn1.TagUTF8String, []byte("Alpha"))}},
		"numeric":   {{atv(oidSN, 18, []byte("12 34"))}, {atv(oidCN, asn1.TagUTF8String, []byte("Numeric Serial"))}},
		"universal": {{atv(oidCN, 28, []byte{0, 0, 0, 'A', 0, 0, 0x01, 0x31, 0, 0, 0, 'Z'})}},
		"empty":     {},
	}
}

// selfSigned makes a certificate with the given subject and issuer.
func selfSigned(t testing.TB, subject pkix.RDNSequence, serial int64) []byte {
	t.Helper()
	raw, err := asn1.Marshal(subject)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), RawSubject: raw, RawIssuer: raw,
		NotBefore: time.Unix(1700000000, 0), NotAfter: time.Unix(2000000000, 0), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func TestNameHashMatchesOpenSSL(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("no openssl on the host")
	}
	dir := t.TempDir()
	for name, subject := range testNames() {
		t.Run(name, func(t *testing.T) {
			pemData := selfSigned(t, subject, 1)
			file := filepath.Join(dir, name+".pem")
			os.WriteFile(file, pemData, 0o644)
			out, err := exec.Command(openssl, "x509", "-noout", "-subject_hash", "-in", file).CombinedOutput()
			if err != nil {
				t.Fatalf("openssl: %v\n%s", err, out)
			}
			der, _ := singleCert(pemData)
			_, subject, err := rawSubject(der)
			if err != nil {
				t.Fatal(err)
			}
			h, err := nameHash(subject)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := fmt.Sprintf("%08x", h), strings.TrimSpace(string(out)); got != want {
				t.Errorf("hash %s, openssl says %s", got, want)
			}
		})
	}
}

func TestCanonicalNameErrors(t *testing.T) {
	for _, raw := range [][]byte{nil, {0x30}, {0x31, 0x00}, {0x30, 0x03, 0x31, 0x01, 0x00},
		[]byte("\x30\x0b\x31\x09\x30\x07\x06\x03\x55\x04\x03\x0c\x01\xff")} {
		if _, err := canonicalName(raw); err == nil {
			t.Errorf("canonicalName(%x): no error", raw)
		}
	}
}

func FuzzCanonicalName(f *testing.F) {
	for _, n := range testNames() {
		raw, _ := asn1.Marshal(n)
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		canon, err := canonicalName(raw)
		if err != nil {
			return
		}
		// The canonical form is a fixed point: canonicalising the SEQUENCE
		// of its SETs again gives the same bytes.
		again, err := canonicalName(derTLV(0x30, canon))
		if err != nil || string(again) != string(canon) {
			t.Fatalf("not idempotent: %x -> %x (%v)", canon, again, err)
		}
	})
}
