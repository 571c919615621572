package image

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"regexp"
	"strings"
)

// Errors callers branch on.
var (
	// ErrDigestMismatch: a layer or blob did not hash to what it should.
	ErrDigestMismatch = errors.New("digest mismatch")
	// ErrInvalidName: a tag or reference is not a valid image name.
	ErrInvalidName = errors.New("invalid image name")
)

// parseHex accepts "sha256:<hex>" or "<hex>" and returns the hex.
func parseHex(d string) (string, error) {
	h := strings.TrimPrefix(d, "sha256:")
	if len(h) != 64 {
		return "", fmt.Errorf("image: digest %q: want 64 hex digits", d)
	}
	if _, err := hex.DecodeString(h); err != nil || strings.ToLower(h) != h {
		return "", fmt.Errorf("image: digest %q: want lower-case hex", d)
	}
	return h, nil
}

// refName is the grammar containers/image accepts for an OCI layout
// reference (org.opencontainers.image.ref.name): components of
// alphanumerics joined by one of -._:@+ or "--", separated by "/".
var refName = regexp.MustCompile(`^[a-zA-Z0-9]+(([-._:@+]|--)[a-zA-Z0-9]+)*(/[a-zA-Z0-9]+(([-._:@+]|--)[a-zA-Z0-9]+)*)*$`)

// CheckTag validates a tag for an OCI layout's index.json.
func CheckTag(tag string) error {
	if len(tag) > 255 || !refName.MatchString(tag) {
		return fmt.Errorf("image: tag %q: %w (letters, digits and -._:@+ between them, components separated by /)", tag, ErrInvalidName)
	}
	return nil
}

// verifyReader hashes what it reads and fails the final Read when the
// content does not match the digest or the size it should have.
type verifyReader struct {
	r    io.Reader
	h    hash.Hash
	want string // hex
	size int64  // -1 when unknown
	n    int64
	what string
	err  error
}

func newVerifyReader(r io.Reader, want string, size int64, what string) *verifyReader {
	return &verifyReader{r: r, h: sha256.New(), want: want, size: size, what: what}
}

func (v *verifyReader) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	if v.size >= 0 && int64(len(p)) > v.size-v.n+1 {
		p = p[:v.size-v.n+1] // read at most one byte past the end
	}
	n, err := v.r.Read(p)
	v.h.Write(p[:n])
	v.n += int64(n)
	switch {
	case v.size >= 0 && v.n > v.size:
		v.err = fmt.Errorf("image: %s: longer than %d bytes: %w", v.what, v.size, ErrDigestMismatch)
		return n, v.err
	case errors.Is(err, io.EOF):
		if v.size >= 0 && v.n != v.size {
			v.err = fmt.Errorf("image: %s: %d bytes, want %d: %w", v.what, v.n, v.size, ErrDigestMismatch)
			return n, v.err
		}
		if got := hex.EncodeToString(v.h.Sum(nil)); v.want != "" && got != v.want {
			v.err = fmt.Errorf("image: %s: content hashes to sha256:%s, want sha256:%s: %w", v.what, got, v.want, ErrDigestMismatch)
			return n, v.err
		}
		v.err = io.EOF
		return n, io.EOF
	case err != nil:
		v.err = fmt.Errorf("image: %s: %w", v.what, err)
		return n, v.err
	}
	return n, nil
}

// readCloser pairs a reader with the closer of what it reads from.
type readCloser struct {
	io.Reader
	io.Closer
}
