package apk

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Both APKINDEX.tar.gz and .apk files begin with a gzip member holding a tar
// of ".SIGN.RSA.<key file>" (SHA-1) or ".SIGN.RSA256.<key file>" (SHA-256)
// entries: RSA PKCS#1 v1.5 signatures over the raw compressed bytes of what
// follows (the rest of an index, the control member of a package).

// Verification failures callers branch on.
var (
	ErrUnsigned     = errors.New("not signed")
	ErrBadSignature = errors.New("signature does not verify")
	ErrChecksum     = errors.New("checksum mismatch")
	ErrFormat       = errors.New("malformed")
)

// maxSignatures bounds the entries of a signature member.
const maxSignatures = 16

// signature is one signature entry.
type signature struct {
	key  string // file name of the signing key
	hash crypto.Hash
	sig  []byte
}

// gzipMember decompresses the single gzip member at the start of data and
// returns its content and its compressed length. A bytes.Reader is an
// io.ByteReader, so the decompressor reads exactly the member and no more.
func gzipMember(data []byte, max int64, what string) ([]byte, int, error) {
	br := bytes.NewReader(data)
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w: not a gzip stream: %w", what, ErrFormat, err)
	}
	zr.Multistream(false)
	content, err := readAllLimited(zr, max, what)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", what, err)
	}
	return content, int(br.Size()) - br.Len(), nil
}

// parseSignatures reads the tar of a signature member. It returns
// ErrUnsigned when the first entry is not a signature: the file then is a
// plain tar.gz.
func parseSignatures(member []byte, what string) ([]signature, error) {
	tr := tar.NewReader(bytes.NewReader(member))
	var sigs []signature
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: signature member: %w: %w", what, ErrFormat, err)
		}
		if !strings.HasPrefix(hdr.Name, ".SIGN.") {
			if len(sigs) == 0 {
				return nil, fmt.Errorf("%s: %w (first entry is %q, not .SIGN.RSA.<key>)", what, ErrUnsigned, hdr.Name)
			}
			return nil, fmt.Errorf("%s: signature member: unexpected entry %q", what, hdr.Name)
		}
		if len(sigs) >= maxSignatures {
			return nil, fmt.Errorf("%s: more than %d signatures", what, maxSignatures)
		}
		s := signature{}
		switch {
		case strings.HasPrefix(hdr.Name, ".SIGN.RSA256."):
			s.key, s.hash = strings.TrimPrefix(hdr.Name, ".SIGN.RSA256."), crypto.SHA256
		case strings.HasPrefix(hdr.Name, ".SIGN.RSA."):
			s.key, s.hash = strings.TrimPrefix(hdr.Name, ".SIGN.RSA."), crypto.SHA1
		default:
			continue // another algorithm (apk-tools knows DSA): not trusted here
		}
		if s.sig, err = readAllLimited(tr, 4096, what+": "+hdr.Name); err != nil {
			return nil, err
		}
		sigs = append(sigs, s)
	}
	if len(sigs) == 0 {
		return nil, fmt.Errorf("%s: %w (no RSA signature)", what, ErrUnsigned)
	}
	return sigs, nil
}

// digests hashes data with SHA-1 and SHA-256, the two algorithms the
// signature entries use.
type digests struct{ sha1, sha256 []byte }

func digestsOf(data []byte) digests {
	s1 := sha1.Sum(data)
	s2 := sha256.Sum256(data)
	return digests{sha1: s1[:], sha256: s2[:]}
}

func (d digests) get(h crypto.Hash) []byte {
	if h == crypto.SHA256 {
		return d.sha256
	}
	return d.sha1
}

// verifySignatures accepts the content when a signature by a trusted key
// verifies, and returns that key's name. A trusted key whose signature
// fails is an error even when another signature is good only if none is.
func verifySignatures(sigs []signature, keys *Keyring, d digests, what string) (string, error) {
	var bad error
	var untrusted []string
	for _, s := range sigs {
		pub, ok := keys.Lookup(s.key)
		if !ok {
			untrusted = append(untrusted, s.key)
			continue
		}
		if err := rsa.VerifyPKCS1v15(pub, s.hash, d.get(s.hash), s.sig); err != nil {
			bad = fmt.Errorf("%s: %w (key %s, %v)", what, ErrBadSignature, s.key, s.hash)
			continue
		}
		return s.key, nil
	}
	if bad != nil {
		return "", bad
	}
	return "", fmt.Errorf("%s: %w %s", what, ErrUntrustedKey, strings.Join(untrusted, ", "))
}
