package sbom

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/rootfsd/rootfsd/repo"
)

// packageURL returns the package's purl:
//
//	pkg:deb/<distro-id>/<name>@<version>?arch=<arch>&distro=<codename>
//	pkg:apk/alpine/<name>@<version>?arch=<arch>
//
// Qualifiers are sorted by key, as the purl specification requires.
func packageURL(sub subject, name, version, arch string) string {
	var b strings.Builder
	b.WriteString("pkg:")
	b.WriteString(string(sub.family))
	b.WriteByte('/')
	b.WriteString(purlEscape(strings.ToLower(sub.id)))
	b.WriteByte('/')
	b.WriteString(purlEscape(name))
	b.WriteByte('@')
	b.WriteString(purlEscape(version))
	sep := byte('?')
	if arch != "" {
		b.WriteString("?arch=")
		b.WriteString(purlEscape(arch))
		sep = '&'
	}
	if sub.family == repo.FamilyDeb && sub.codename != "" {
		b.WriteByte(sep)
		b.WriteString("distro=")
		b.WriteString(purlEscape(sub.codename))
	}
	return b.String()
}

// purlEscape percent-encodes everything but the unreserved characters and
// the colon, which the purl specification says must stay as they are
// (so an epoch reads "1:2.3" and "+" becomes "%2B").
func purlEscape(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			c == '-', c == '.', c == '_', c == '~', c == ':':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
	return b.String()
}

// apkChecksum decodes apk's C: field. "Q1" + base64 is the SHA1 of the
// package's control stream, returned as hex. "Q2" (SHA256 of the same
// stream, in newer indexes) is accepted but returns "": it is not the
// package file's digest and would be mistaken for one.
func apkChecksum(c string) (string, error) {
	if len(c) < 2 || c[0] != 'Q' {
		return "", fmt.Errorf("checksum %q: not an apk Q1 or Q2 checksum", clipText(c, 80))
	}
	raw, err := base64.StdEncoding.DecodeString(c[2:])
	if err != nil {
		return "", fmt.Errorf("checksum %q: %w", clipText(c, 80), err)
	}
	switch {
	case c[1] == '1' && len(raw) == 20:
		return hex.EncodeToString(raw), nil
	case c[1] == '2' && len(raw) == 32:
		return "", nil
	}
	return "", fmt.Errorf("checksum %q: wrong length for Q%c", clipText(c, 80), c[1])
}
