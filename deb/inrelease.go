package deb

import (
	"bytes"
	"crypto"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// ErrSignature is wrapped when no signature of a signed index verifies with
// a trusted key; the message lists why each signature was refused.
var ErrSignature = errors.New("no valid signature by a trusted key")

const (
	// maxSignatureBytes bounds the signature part of a signed index.
	maxSignatureBytes = 256 << 10
	// maxSignatures bounds the signatures tried on one index.
	maxSignatures = 16
)

// Signed is the outcome of a verified signature.
type Signed struct {
	// Body is the signed text only: for an InRelease the cleartext with
	// dash-escaping undone and LF line ends, ending in a newline. Nothing
	// outside the signed part is ever returned.
	Body []byte
	// Signer is the entity (primary key) whose key made the signature that
	// verified, and KeyID the fingerprint of that key or subkey.
	Signer *openpgp.Entity
	KeyID  string
}

// VerifyInRelease checks a clearsigned InRelease against a keyring at time
// now and returns the signed text. It accepts the file when any one of its
// signatures verifies with a key in the keyring that is neither expired nor
// revoked at now (Debian signs with several keys, RSA and Ed25519, by
// subkeys). Text before or after the signed message is refused, as are
// signatures made with SHA-1 or weaker digests.
func VerifyInRelease(data []byte, keyring openpgp.KeyRing, now time.Time) (*Signed, error) {
	if !bytes.HasPrefix(data, []byte("-----BEGIN PGP SIGNED MESSAGE-----")) {
		return nil, errors.New("not a clearsigned message: no BEGIN PGP SIGNED MESSAGE on the first line")
	}
	b, rest := clearsign.Decode(data)
	if b == nil {
		return nil, errors.New("malformed clearsigned message")
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, fmt.Errorf("%d bytes after the signature", len(rest))
	}
	if b.ArmoredSignature.Type != "PGP SIGNATURE" {
		return nil, fmt.Errorf("armored %q, want PGP SIGNATURE", b.ArmoredSignature.Type)
	}
	sigs, err := io.ReadAll(io.LimitReader(b.ArmoredSignature.Body, maxSignatureBytes+1))
	if err != nil {
		return nil, fmt.Errorf("signature armor: %w", err)
	}
	s, err := verifyEach(b.Bytes, sigs, keyring, now)
	if err != nil {
		return nil, err
	}
	// gpg does not sign the newline before the signature block; a
	// parser wants the last line ended.
	s.Body = b.Plaintext
	if !bytes.HasSuffix(s.Body, []byte("\n")) {
		s.Body = append(s.Body, '\n')
	}
	return s, nil
}

// VerifyDetached checks a Release file against its detached signature
// (Release.gpg, armored or binary), as VerifyInRelease does.
func VerifyDetached(release, signature []byte, keyring openpgp.KeyRing, now time.Time) (*Signed, error) {
	sigs := signature
	if bytes.HasPrefix(bytes.TrimLeft(signature, " \t\r\n"), []byte(armorBegin)) {
		block, err := armor.Decode(bytes.NewReader(signature))
		if err != nil {
			return nil, fmt.Errorf("signature armor: %w", err)
		}
		if block.Type != "PGP SIGNATURE" {
			return nil, fmt.Errorf("armored %q, want PGP SIGNATURE", block.Type)
		}
		if sigs, err = io.ReadAll(io.LimitReader(block.Body, maxSignatureBytes+1)); err != nil {
			return nil, fmt.Errorf("signature armor: %w", err)
		}
	}
	s, err := verifyEach(release, sigs, keyring, now)
	if err != nil {
		return nil, err
	}
	s.Body = release
	return s, nil
}

// verifyEach tries each signature packet on its own: go-crypto checks only
// the first signature whose issuer it knows, so a file whose first known
// signature is by an expired key would fail though a later one is good.
func verifyEach(signed, sigs []byte, keyring openpgp.KeyRing, now time.Time) (*Signed, error) {
	if len(sigs) > maxSignatureBytes {
		return nil, fmt.Errorf("signature part larger than %d bytes", maxSignatureBytes)
	}
	raw, err := splitPackets(sigs)
	if err != nil {
		return nil, fmt.Errorf("signature packets: %w", err)
	}
	if len(raw) == 0 {
		return nil, fmt.Errorf("%w: no signatures", ErrSignature)
	}
	if len(raw) > maxSignatures {
		return nil, fmt.Errorf("%d signatures, at most %d", len(raw), maxSignatures)
	}
	config := &packet.Config{Time: func() time.Time { return now }}
	var why []string
	for _, r := range raw {
		p, err := packet.Read(bytes.NewReader(r))
		if err != nil {
			why = append(why, fmt.Sprintf("unreadable signature: %v", err))
			continue
		}
		sig, ok := p.(*packet.Signature)
		if !ok {
			return nil, fmt.Errorf("signature part holds a %T packet", p)
		}
		id := "unknown issuer"
		if sig.IssuerKeyId != nil {
			id = fmt.Sprintf("key %016X", *sig.IssuerKeyId)
		}
		if weakHash(sig.Hash) {
			why = append(why, fmt.Sprintf("%s: weak digest %v", id, sig.Hash))
			continue
		}
		_, signer, err := openpgp.VerifyDetachedSignature(keyring, bytes.NewReader(signed), bytes.NewReader(r), config)
		if err != nil {
			why = append(why, fmt.Sprintf("%s: %v", id, err))
			continue
		}
		return &Signed{Signer: signer, KeyID: signerKeyID(signer, sig)}, nil
	}
	return nil, fmt.Errorf("%w: %s", ErrSignature, strings.Join(why, "; "))
}

func weakHash(h crypto.Hash) bool {
	return h == crypto.MD5 || h == crypto.SHA1 || h == crypto.RIPEMD160
}

// signerKeyID names the key or subkey of signer that issued sig.
func signerKeyID(signer *openpgp.Entity, sig *packet.Signature) string {
	if sig.IssuerKeyId != nil {
		for _, k := range (openpgp.EntityList{signer}).KeysById(*sig.IssuerKeyId) {
			return fmt.Sprintf("%X", k.PublicKey.Fingerprint)
		}
	}
	return fmt.Sprintf("%X", signer.PrimaryKey.Fingerprint)
}

// splitPackets cuts a binary OpenPGP stream into its packets (RFC 9580
// section 4.2), header included. Indeterminate and partial lengths, which
// signatures never use, are refused.
func splitPackets(data []byte) ([][]byte, error) {
	var out [][]byte
	for len(data) > 0 {
		tag := data[0]
		if tag&0x80 == 0 {
			return nil, fmt.Errorf("byte %#x is no packet header", tag)
		}
		var hdr, n int
		if tag&0x40 != 0 { // new format
			if len(data) < 2 {
				return nil, io.ErrUnexpectedEOF
			}
			switch o := int(data[1]); {
			case o < 192:
				hdr, n = 2, o
			case o < 224:
				if len(data) < 3 {
					return nil, io.ErrUnexpectedEOF
				}
				hdr, n = 3, (o-192)<<8+int(data[2])+192
			case o == 255:
				if len(data) < 6 {
					return nil, io.ErrUnexpectedEOF
				}
				hdr, n = 6, int(uint32(data[2])<<24|uint32(data[3])<<16|uint32(data[4])<<8|uint32(data[5]))
			default:
				return nil, errors.New("partial body length in a signature")
			}
		} else { // old format
			switch data[0] & 3 {
			case 0:
				if len(data) < 2 {
					return nil, io.ErrUnexpectedEOF
				}
				hdr, n = 2, int(data[1])
			case 1:
				if len(data) < 3 {
					return nil, io.ErrUnexpectedEOF
				}
				hdr, n = 3, int(data[1])<<8|int(data[2])
			case 2:
				if len(data) < 5 {
					return nil, io.ErrUnexpectedEOF
				}
				hdr, n = 5, int(uint32(data[1])<<24|uint32(data[2])<<16|uint32(data[3])<<8|uint32(data[4]))
			default:
				return nil, errors.New("indeterminate length in a signature")
			}
		}
		if n < 0 || n > len(data)-hdr {
			return nil, io.ErrUnexpectedEOF
		}
		out = append(out, data[:hdr+n])
		data = data[hdr+n:]
	}
	return out, nil
}
