package debtest

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// Epoch is the fixed creation time of generated keys: repositories built
// for tests date themselves after it and check with clocks after that.
func Epoch() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }

// KeyAlgo selects the algorithm of a generated key.
type KeyAlgo int

const (
	RSA     KeyAlgo = iota // RSA 2048, as archives use (they use 4096)
	Ed25519                // EdDSA on Curve25519, as Debian's stable release keys
)

// KeyOptions describe a generated key.
type KeyOptions struct {
	Algo KeyAlgo
	// SigningSubkey adds a signing subkey, which then makes the
	// signatures, as Debian's and Ubuntu's automatic keys do.
	SigningSubkey bool
	// Lifetime makes the key expire that long after Epoch; 0 never.
	Lifetime time.Duration
}

// NewKey generates a secret key called name.
func NewKey(t testing.TB, name string, opt KeyOptions) *openpgp.Entity {
	t.Helper()
	e, err := GenerateKey(name, opt)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// GenerateKey is NewKey for callers without a test at hand, such as a
// sync.OnceValue shared by the tests of a package.
func GenerateKey(name string, opt KeyOptions) (*openpgp.Entity, error) {
	cfg := &packet.Config{
		Time:            Epoch,
		KeyLifetimeSecs: uint32(opt.Lifetime / time.Second),
	}
	switch opt.Algo {
	case RSA:
		cfg.Algorithm, cfg.RSABits = packet.PubKeyAlgoRSA, 2048
	case Ed25519:
		cfg.Algorithm = packet.PubKeyAlgoEdDSA
	}
	e, err := openpgp.NewEntity(name, "test", "", cfg)
	if err != nil {
		return nil, fmt.Errorf("generate key %s: %w", name, err)
	}
	if opt.SigningSubkey {
		if err := e.AddSigningSubkey(cfg); err != nil {
			return nil, fmt.Errorf("signing subkey of %s: %w", name, err)
		}
	}
	return e, nil
}

// SigningKey is the private key of e that signs at time at: its newest
// valid signing subkey, or the primary key.
func SigningKey(t testing.TB, e *openpgp.Entity, at time.Time) *packet.PrivateKey {
	t.Helper()
	k, ok := e.SigningKey(at)
	if !ok {
		t.Fatalf("key %X has no signing key at %v", e.PrimaryKey.Fingerprint, at)
	}
	return k.PrivateKey
}

// PublicKeyring serializes the public parts of keys (with revocations)
// into a binary keyring, as a .gpg file holds them.
func PublicKeyring(t testing.TB, keys ...*openpgp.Entity) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, e := range keys {
		if err := e.Serialize(&b); err != nil {
			t.Fatalf("serialize key: %v", err)
		}
	}
	return b.Bytes()
}

// ArmoredKeyring is PublicKeyring in ASCII armor, one block per key.
func ArmoredKeyring(t testing.TB, keys ...*openpgp.Entity) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, e := range keys {
		w, err := armor.Encode(&b, openpgp.PublicKeyType, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Serialize(w); err != nil {
			t.Fatalf("serialize key: %v", err)
		}
		w.Close()
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// Trust parses the public parts of keys back, as a trusted keyring that
// holds no secrets.
func Trust(t testing.TB, keys ...*openpgp.Entity) openpgp.EntityList {
	t.Helper()
	el, err := openpgp.ReadKeyRing(bytes.NewReader(PublicKeyring(t, keys...)))
	if err != nil {
		t.Fatalf("read keyring: %v", err)
	}
	return el
}
