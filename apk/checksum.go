package apk

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"fmt"
)

// apk identifies packages and files by SHA-1 checksums written as "Q1"
// followed by the padded standard base64 of the 20 digest bytes: the C:
// field of indexes and of the installed database, and its Z: file sums.

// FormatQ1 renders a SHA-1 digest in apk's "Q1..." notation.
func FormatQ1(sum []byte) string {
	return "Q1" + base64.StdEncoding.EncodeToString(sum)
}

// decodeQ1 parses a "Q1..." checksum into its 20 SHA-1 bytes.
func decodeQ1(s string) ([]byte, error) {
	if len(s) != 30 || s[0] != 'Q' || s[1] != '1' {
		return nil, fmt.Errorf("checksum %q: not Q1 followed by 28 base64 characters", s)
	}
	b, err := base64.StdEncoding.Strict().DecodeString(s[2:])
	if err != nil || len(b) != sha1.Size {
		return nil, fmt.Errorf("checksum %q: bad base64", s)
	}
	return b, nil
}

// hexToQ1 converts a hex SHA-1 (the APK-TOOLS.checksum.SHA1 PAX record)
// into Q1 notation.
func hexToQ1(h string) (string, error) {
	b, err := hex.DecodeString(h)
	if err != nil || len(b) != sha1.Size {
		return "", fmt.Errorf("sha1 %q: not 40 hex digits", h)
	}
	return FormatQ1(b), nil
}
