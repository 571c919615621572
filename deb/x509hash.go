package deb

import (
	"bytes"
	"crypto/sha1"
	"encoding/asn1"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"unicode/utf8"
)

// OpenSSL's subject name hash (X509_NAME_hash_ex, "openssl x509 -hash"),
// which names the <hash>.N links of a certificate directory: the first
// four bytes, little endian, of the SHA-1 of the name's canonical
// encoding. The canonical encoding is the DER of each RDN's SET (without
// the outer SEQUENCE), where every string value (UTF8, BMP, Universal,
// Printable, T61, IA5, Visible) is converted to UTF-8, stripped of
// leading and trailing whitespace, runs of whitespace collapsed to one
// space, ASCII upper case folded to lower case, and re-encoded as a
// UTF8String; other values are kept as they are.

// errName is a distinguished name that cannot be canonicalised.
var errName = errors.New("malformed distinguished name")

// maxNameSize bounds the DER of a name.
const maxNameSize = 64 << 10

// nameHash returns the OpenSSL subject hash of a DER-encoded Name.
func nameHash(rawName []byte) (uint32, error) {
	canon, err := canonicalName(rawName)
	if err != nil {
		return 0, err
	}
	sum := sha1.Sum(canon)
	return binary.LittleEndian.Uint32(sum[:4]), nil
}

// canonicalName is OpenSSL's x509_name_canon.
func canonicalName(rawName []byte) ([]byte, error) {
	if len(rawName) > maxNameSize {
		return nil, fmt.Errorf("%w: %d bytes", errName, len(rawName))
	}
	var seq asn1.RawValue
	rest, err := asn1.Unmarshal(rawName, &seq)
	if err != nil || len(rest) > 0 || seq.Class != asn1.ClassUniversal || seq.Tag != asn1.TagSequence || !seq.IsCompound {
		return nil, fmt.Errorf("%w: not a SEQUENCE", errName)
	}
	var out []byte
	for b := seq.Bytes; len(b) > 0; {
		var set asn1.RawValue
		if b, err = asn1.Unmarshal(b, &set); err != nil || set.Tag != asn1.TagSet || !set.IsCompound {
			return nil, fmt.Errorf("%w: RDN is not a SET", errName)
		}
		var avas [][]byte
		for s := set.Bytes; len(s) > 0; {
			var ava asn1.RawValue
			if s, err = asn1.Unmarshal(s, &ava); err != nil || ava.Tag != asn1.TagSequence || !ava.IsCompound {
				return nil, fmt.Errorf("%w: attribute is not a SEQUENCE", errName)
			}
			var oid, value asn1.RawValue
			r, err := asn1.Unmarshal(ava.Bytes, &oid)
			if err != nil || oid.Tag != asn1.TagOID || oid.Class != asn1.ClassUniversal {
				return nil, fmt.Errorf("%w: attribute type is not an OID", errName)
			}
			if r, err = asn1.Unmarshal(r, &value); err != nil || len(r) > 0 {
				return nil, fmt.Errorf("%w: attribute value", errName)
			}
			v, err := canonicalValue(value)
			if err != nil {
				return nil, err
			}
			avas = append(avas, derTLV(0x30, append(append([]byte(nil), oid.FullBytes...), v...)))
		}
		// DER sorts the members of a SET OF by their encodings.
		sort.SliceStable(avas, func(i, j int) bool { return derLess(avas[i], avas[j]) })
		out = append(out, derTLV(0x31, bytes.Join(avas, nil))...)
	}
	return out, nil
}

func derLess(a, b []byte) bool {
	if c := bytes.Compare(a[:min(len(a), len(b))], b[:min(len(a), len(b))]); c != 0 {
		return c < 0
	}
	return len(a) < len(b)
}

// canonicalValue is asn1_string_canon for one attribute value.
func canonicalValue(v asn1.RawValue) ([]byte, error) {
	if v.Class != asn1.ClassUniversal || v.IsCompound {
		return v.FullBytes, nil
	}
	var u []byte
	switch v.Tag {
	case asn1.TagUTF8String:
		if !utf8.Valid(v.Bytes) {
			return nil, fmt.Errorf("%w: invalid UTF8String", errName)
		}
		u = v.Bytes
	case asn1.TagPrintableString, asn1.TagT61String, asn1.TagIA5String, 26: // 26: VisibleString
		for _, c := range v.Bytes {
			u = utf8.AppendRune(u, rune(c))
		}
	case asn1.TagBMPString:
		if len(v.Bytes)%2 != 0 {
			return nil, fmt.Errorf("%w: odd BMPString", errName)
		}
		for i := 0; i < len(v.Bytes); i += 2 {
			u = utf8.AppendRune(u, rune(binary.BigEndian.Uint16(v.Bytes[i:])))
		}
	case 28: // UniversalString
		if len(v.Bytes)%4 != 0 {
			return nil, fmt.Errorf("%w: bad UniversalString", errName)
		}
		for i := 0; i < len(v.Bytes); i += 4 {
			r := rune(binary.BigEndian.Uint32(v.Bytes[i:]))
			if r > utf8.MaxRune || r < 0 {
				return nil, fmt.Errorf("%w: bad UniversalString", errName)
			}
			u = utf8.AppendRune(u, r)
		}
	default:
		return v.FullBytes, nil
	}
	return derTLV(asn1.TagUTF8String, canonString(u)), nil
}

// canonString strips, collapses whitespace and folds ASCII case.
func canonString(s []byte) []byte {
	isSpace := func(c byte) bool { return c == ' ' || c >= '\t' && c <= '\r' }
	for len(s) > 0 && isSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c >= 0x80:
			out = append(out, c)
			i++
		case isSpace(c):
			out = append(out, ' ')
			for i < len(s) && isSpace(s[i]) {
				i++
			}
		default:
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			out = append(out, c)
			i++
		}
	}
	return out
}

// derTLV encodes a universal primitive or constructed value with the
// one-byte tag given and a DER length.
func derTLV(tag int, content []byte) []byte {
	out := []byte{byte(tag)}
	n := len(content)
	switch {
	case n < 0x80:
		out = append(out, byte(n))
	case n < 0x100:
		out = append(out, 0x81, byte(n))
	case n < 0x10000:
		out = append(out, 0x82, byte(n>>8), byte(n))
	default:
		out = append(out, 0x83, byte(n>>16), byte(n>>8), byte(n))
	}
	return append(out, content...)
}

// rawSubject returns the DER of a certificate (without the trust data a
// TRUSTED CERTIFICATE appends) and its subject Name, walking the
// TBSCertificate without the strictness of crypto/x509, which refuses
// certificates OpenSSL accepts (UniversalString names, odd serials).
func rawSubject(der []byte) (certDER, subject []byte, err error) {
	var cert, tbs asn1.RawValue
	if _, err := asn1.Unmarshal(der, &cert); err != nil || cert.Tag != asn1.TagSequence {
		return nil, nil, fmt.Errorf("certificate is not a SEQUENCE")
	}
	if _, err := asn1.Unmarshal(cert.Bytes, &tbs); err != nil || tbs.Tag != asn1.TagSequence {
		return nil, nil, fmt.Errorf("tbsCertificate is not a SEQUENCE")
	}
	b := tbs.Bytes
	var fields []asn1.RawValue
	for len(b) > 0 && len(fields) < 6 {
		var v asn1.RawValue
		var err error
		if b, err = asn1.Unmarshal(b, &v); err != nil {
			return nil, nil, fmt.Errorf("tbsCertificate: %w", err)
		}
		if len(fields) == 0 && v.Class == asn1.ClassContextSpecific && v.Tag == 0 {
			continue // [0] version
		}
		fields = append(fields, v)
	}
	// serial, signature, issuer, validity, subject
	if len(fields) < 5 || fields[4].Tag != asn1.TagSequence {
		return nil, nil, fmt.Errorf("tbsCertificate has no subject")
	}
	return cert.FullBytes, fields[4].FullBytes, nil
}
