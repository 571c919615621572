package deb

import (
	"bytes"
	"crypto"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/rootfsd/rootfsd/deb/internal/debtest"
)

const signedText = "Origin: Test\nSuite: stable\nDate: Fri, 02 Jan 2026 00:00:00 UTC\nSHA256:\n " +
	"0000000000000000000000000000000000000000000000000000000000000000 0 main/binary-amd64/Packages\n" +
	"-----BEGIN PGP SIGNATURE-----\n- a dash-escaped line\n"

// signingFingerprint is the fingerprint of the key of e that signs at t.
func signingFingerprint(t *testing.T, e *openpgp.Entity, at time.Time) string {
	return fmt.Sprintf("%X", debtest.SigningKey(t, e, at).Fingerprint)
}

func TestVerifyInRelease(t *testing.T) {
	k := testKeys()
	after60d := debtest.Epoch().Add(60 * 24 * time.Hour)
	tests := []struct {
		name    string
		signers []*openpgp.Entity
		trusted []*openpgp.Entity
		now     time.Time
		wantKey *openpgp.Entity // whose signing key verified; nil: must fail
		wantErr string
	}{
		{name: "RSA by subkey", signers: []*openpgp.Entity{k.archive}, trusted: []*openpgp.Entity{k.archive}, now: testClock, wantKey: k.archive},
		{name: "Ed25519 primary", signers: []*openpgp.Entity{k.release}, trusted: []*openpgp.Entity{k.release}, now: testClock, wantKey: k.release},
		{name: "Ed25519 subkey", signers: []*openpgp.Entity{k.expiring}, trusted: []*openpgp.Entity{k.expiring}, now: testClock, wantKey: k.expiring},
		{
			name:    "RSA and Ed25519, only Ed25519 trusted",
			signers: []*openpgp.Entity{k.archive, k.release}, trusted: []*openpgp.Entity{k.release}, now: testClock, wantKey: k.release,
		},
		{
			name:    "untrusted first, trusted second",
			signers: []*openpgp.Entity{k.untrusted, k.archive}, trusted: []*openpgp.Entity{k.archive, k.release}, now: testClock, wantKey: k.archive,
		},
		{
			name:    "expired key first, valid second",
			signers: []*openpgp.Entity{k.expiring, k.release}, trusted: []*openpgp.Entity{k.expiring, k.release}, now: after60d, wantKey: k.release,
		},
		{
			name:    "only an expired key",
			signers: []*openpgp.Entity{k.expiring}, trusted: []*openpgp.Entity{k.expiring}, now: after60d, wantErr: "key expired",
		},
		{
			name:    "only untrusted keys",
			signers: []*openpgp.Entity{k.untrusted}, trusted: []*openpgp.Entity{k.archive, k.release}, now: testClock, wantErr: "unknown entity",
		},
		{
			name:    "signature from the future",
			signers: []*openpgp.Entity{k.release}, trusted: []*openpgp.Entity{k.release}, now: debtest.Epoch().Add(time.Hour), wantErr: "expired",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := debtest.ClearSign(t, []byte(signedText), repoDate, tt.signers...)
			s, err := VerifyInRelease(in, debtest.Trust(t, tt.trusted...), tt.now)
			if tt.wantKey == nil {
				if !errors.Is(err, ErrSignature) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %v saying %q", err, ErrSignature, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(s.Body) != signedText {
				t.Errorf("body %q, want %q", s.Body, signedText)
			}
			if want := signingFingerprint(t, tt.wantKey, repoDate); s.KeyID != want {
				t.Errorf("verified by %s, want %s", s.KeyID, want)
			}
			if s.Signer.PrimaryKey.KeyId != tt.wantKey.PrimaryKey.KeyId {
				t.Errorf("signer %X", s.Signer.PrimaryKey.Fingerprint)
			}
		})
	}
}

func TestVerifyInReleaseRevokedSubkey(t *testing.T) {
	e := debtest.NewKey(t, "revoked", debtest.KeyOptions{Algo: debtest.Ed25519, SigningSubkey: true})
	in := debtest.ClearSign(t, []byte(signedText), repoDate, e)
	if _, err := VerifyInRelease(in, debtest.Trust(t, e), testClock); err != nil {
		t.Fatalf("before revocation: %v", err)
	}
	signing := debtest.SigningKey(t, e, repoDate)
	for i := range e.Subkeys {
		if e.Subkeys[i].PublicKey.KeyId == signing.KeyId {
			cfg := &packet.Config{Time: func() time.Time { return repoDate.Add(time.Hour) }}
			if err := e.RevokeSubkey(&e.Subkeys[i], packet.KeyCompromised, "test", cfg); err != nil {
				t.Fatal(err)
			}
		}
	}
	_, err := VerifyInRelease(in, debtest.Trust(t, e), testClock)
	if !errors.Is(err, ErrSignature) || !strings.Contains(err.Error(), "revoked") {
		t.Fatalf("revoked subkey: %v", err)
	}
}

func TestVerifyInReleaseRejects(t *testing.T) {
	k := testKeys()
	kr := debtest.Trust(t, k.release)
	good := debtest.ClearSign(t, []byte(signedText), repoDate, k.release)
	sha1 := clearsignWith(t, []byte("Origin: Test\n"), k.release, crypto.SHA1)
	sha256 := clearsignWith(t, []byte("Origin: Test\n"), k.release, crypto.SHA256)
	if _, err := VerifyInRelease(sha256, kr, testClock); err != nil {
		t.Fatalf("hand-made clearsigned message with SHA-256: %v", err)
	}
	tests := []struct {
		name, in, want string
	}{
		{"text before", "Origin: evil\n" + string(good), "not a clearsigned message"},
		{"text after", string(good) + "Origin: evil\n", "bytes after the signature"},
		{"two messages", string(good) + string(good), "bytes after the signature"},
		{"no signature", "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nOrigin: x\n", "malformed"},
		{"empty", "", "not a clearsigned message"},
		{"one byte changed", strings.Replace(string(good), "stable", "stablf", 1), "no valid signature"},
		{"SHA-1", string(sha1), "weak digest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := VerifyInRelease([]byte(tt.in), kr, testClock)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// clearsignWith clearsigns text by hand with a digest go-crypto's
// clearsign writer would not pick, such as SHA-1.
func clearsignWith(t *testing.T, text []byte, e *openpgp.Entity, h crypto.Hash) []byte {
	canonical := bytes.ReplaceAll(bytes.TrimSuffix(text, []byte("\n")), []byte("\n"), []byte("\r\n"))
	var armored bytes.Buffer
	aw, err := armor.Encode(&armored, "PGP SIGNATURE", nil)
	if err != nil {
		t.Fatal(err)
	}
	priv := debtest.SigningKey(t, e, repoDate)
	sig := &packet.Signature{
		Version: 4, SigType: packet.SigTypeText, PubKeyAlgo: priv.PubKeyAlgo, Hash: h,
		CreationTime: repoDate, IssuerKeyId: &priv.KeyId, IssuerFingerprint: priv.Fingerprint,
	}
	hh, err := sig.PrepareSign(nil)
	if err != nil {
		t.Fatal(err)
	}
	hh.Write(canonical)
	off := false // the salt notation has no SHA-1 variant
	if err := sig.Sign(hh, priv, &packet.Config{NonDeterministicSignaturesViaNotation: &off}); err != nil {
		t.Fatal(err)
	}
	if err := sig.Serialize(aw); err != nil {
		t.Fatal(err)
	}
	aw.Close()
	return []byte("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA1\n\n" + strings.TrimSuffix(string(text), "\n") + "\n" + armored.String() + "\n")
}

func TestVerifyDetached(t *testing.T) {
	k := testKeys()
	text := []byte(signedText)
	sig := debtest.DetachSign(t, text, repoDate, k.untrusted, k.archive)
	s, err := VerifyDetached(text, sig, debtest.Trust(t, k.archive), testClock)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(s.Body, text) || s.KeyID != signingFingerprint(t, k.archive, repoDate) {
		t.Errorf("body %q key %s", s.Body, s.KeyID)
	}
	bad := bytes.Replace(text, []byte("stable"), []byte("stablf"), 1)
	if _, err := VerifyDetached(bad, sig, debtest.Trust(t, k.archive), testClock); !errors.Is(err, ErrSignature) {
		t.Errorf("changed Release: %v", err)
	}
}

func TestSplitPackets(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want []int // packet lengths
		err  bool
	}{
		{"new format one-byte length", []byte{0xc2, 2, 1, 2}, []int{4}, false},
		{"new format two-byte length", append([]byte{0xc2, 192, 8}, make([]byte, 200)...), []int{203}, false},
		{"new format four-byte length", []byte{0xc2, 255, 0, 0, 0, 1, 7}, []int{7}, false},
		{"old format", []byte{0x88, 1, 9, 0x89, 0, 1, 9}, []int{3, 4}, false},
		{"partial length", []byte{0xc2, 224}, nil, true},
		{"indeterminate", []byte{0x8b, 1}, nil, true},
		{"truncated", []byte{0xc2, 5, 1}, nil, true},
		{"no header bit", []byte{0x02}, nil, true},
	}
	for _, tt := range tests {
		got, err := splitPackets(tt.in)
		if (err != nil) != tt.err {
			t.Errorf("%s: err = %v", tt.name, err)
			continue
		}
		var lens []int
		for _, p := range got {
			lens = append(lens, len(p))
		}
		if fmt.Sprint(lens) != fmt.Sprint(tt.want) && !tt.err {
			t.Errorf("%s: lengths %v, want %v", tt.name, lens, tt.want)
		}
	}
}

func FuzzVerifyInRelease(f *testing.F) {
	k := testKeys()
	kr := openpgp.EntityList{k.archive, k.release}
	f.Add(debtest.ClearSign(f, []byte(signedText), repoDate, k.archive, k.release))
	f.Add(debtest.ClearSign(f, []byte("A: b\n"), repoDate, k.untrusted))
	for _, name := range []string{"noble-InRelease", "bookworm-security-InRelease"} {
		if data, err := os.ReadFile("testdata/" + name); err == nil {
			f.Add(data[:min(len(data), 4096)])
			f.Add(data[max(0, len(data)-4096):])
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := VerifyInRelease(data, kr, testClock)
		if err == nil && (s == nil || s.Signer == nil || len(s.Body) == 0) {
			t.Fatal("verified without a signer or body")
		}
	})
}
