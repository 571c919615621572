package store

import (
	"errors"
	"fmt"
	"strings"
)

// Errors callers branch on. Errors returned by the store wrap these (and
// repo.ErrNotCached for missing content), so test them with errors.Is.
var (
	// ErrDigestMismatch: content does not hash to the digest it should.
	ErrDigestMismatch = errors.New("digest mismatch")
	// ErrSizeMismatch: content is not as long as it should be.
	ErrSizeMismatch = errors.New("size mismatch")
	// ErrTooLarge: content exceeds Options.MaxBlobSize.
	ErrTooLarge = errors.New("blob too large")
	// ErrCorrupt: a stored blob no longer matches its digest; it has been
	// moved to quarantine and must be fetched again.
	ErrCorrupt = errors.New("blob corrupt")
	// ErrReadOnly: a write was attempted on a store opened read-only.
	ErrReadOnly = errors.New("store opened read-only")
	// ErrLockTimeout: another process held a lock for longer than allowed.
	ErrLockTimeout = errors.New("timed out waiting for lock")
	// ErrInvalid: a digest, reference or lock name is malformed.
	ErrInvalid = errors.New("invalid argument")
)

// digestLen is the length of a hex SHA256 digest.
const digestLen = 64

// ParseDigest checks a SHA256 digest and returns it in the store's form:
// 64 lower-case hex digits. An optional "sha256:" prefix is removed and
// upper-case hex is accepted.
func ParseDigest(s string) (string, error) {
	d := strings.TrimPrefix(s, "sha256:")
	if len(d) != digestLen {
		return "", fmt.Errorf("store: digest %q: want %d hex digits: %w", clip(s), digestLen, ErrInvalid)
	}
	b := []byte(d)
	for i, c := range b {
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f':
		case c >= 'A' && c <= 'F':
			b[i] = c + ('a' - 'A')
		default:
			return "", fmt.Errorf("store: digest %q: not hex: %w", clip(s), ErrInvalid)
		}
	}
	return string(b), nil
}

// isDigest reports whether s is already in the store's canonical form.
func isDigest(s string) bool {
	if len(s) != digestLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// maxNameLen bounds reference, lock, namespace and record key names.
const maxNameLen = 1024

// checkName validates a reference, record key or namespace: non-empty,
// bounded, no NUL. Such names are only used as database keys.
func checkName(what, s string) error {
	if s == "" || len(s) > maxNameLen || strings.IndexByte(s, 0) >= 0 {
		return fmt.Errorf("store: %s %q: empty, longer than %d bytes or containing NUL: %w", what, clip(s), maxNameLen, ErrInvalid)
	}
	return nil
}

// checkFileName validates a name that becomes a file under locks/.
func checkFileName(what, s string) error {
	if s == "" || len(s) > 200 || s == "." || s == ".." || s[0] == '.' {
		return fmt.Errorf("store: %s %q: must be 1-200 characters of [A-Za-z0-9._+-], not starting with '.': %w", what, clip(s), ErrInvalid)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '.' || c == '_' || c == '-' || c == '+'
		if !ok {
			return fmt.Errorf("store: %s %q: must be 1-200 characters of [A-Za-z0-9._+-], not starting with '.': %w", what, clip(s), ErrInvalid)
		}
	}
	return nil
}

// clip shortens s for error messages.
func clip(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}
