package deb

import (
	"errors"
	"fmt"
)

// Source policy and the checks FetchPackage applies to a planned package
// before any request. See SECURITY.md for the threat model they serve.
//
// An extra source (a PPA or third-party repository given with --source and
// its own signed-by key) may add packages, but it may not replace a
// package of the release itself: a name that any of the release's pockets
// (bookworm, bookworm-updates, bookworm-security) serves is taken from
// those pockets only, whatever version the extra source offers, unless
// the request pins it to the extra source with name/suite. apt would
// simply take the highest version, which lets any repository a user adds
// for one tool override libc6 or openssl; rootfsd refuses that silently
// wider trust. The same holds for providers: a package of an extra source
// does not satisfy, through Provides, a name the release serves as a real
// package.

// MaxPackageSize bounds the size of one package file a plan or a lock may
// name (the largest packages of Debian and Ubuntu are well below 2 GiB).
// A signed index is trusted for what it says, but "Size: 2^62" must not
// turn a download into an unbounded stream.
const MaxPackageSize = 4 << 30

// ErrPlannedPackage is wrapped when a planned package (from a plan, a
// lock or the API) names something FetchPackage must not fetch: a
// filename that is not a clean relative path, a size out of bounds, a
// malformed digest.
var ErrPlannedPackage = errors.New("refused planned package")

// releaseOnly drops the candidates of extra sources when the release's
// pockets serve name themselves. cands are the stanzas of one name.
func releaseOnly(cands []*Candidate) []*Candidate {
	inRelease := false
	for _, c := range cands {
		if !c.File.Extra {
			inRelease = true
			break
		}
	}
	if !inRelease {
		return cands
	}
	out := cands[:0:0]
	for _, c := range cands {
		if !c.File.Extra {
			out = append(out, c)
		}
	}
	return out
}

// servedByRelease reports whether a file of the release's own pockets has
// a stanza called name (any architecture).
func (u *Universe) servedByRelease(name string) bool {
	for _, r := range u.named(name) {
		if !u.files[r.file].Extra {
			return true
		}
	}
	return false
}

// releaseProviders drops providers from extra sources for a name that the
// release serves as a real package.
func (u *Universe) releaseProviders(name string, provs []*Candidate) []*Candidate {
	if !u.servedByRelease(name) {
		return provs
	}
	out := provs[:0:0]
	for _, c := range provs {
		if !c.File.Extra {
			out = append(out, c)
		}
	}
	return out
}

// checkPlanned refuses a planned package FetchPackage must not fetch.
func checkPlanned(name, version, filename string, size int64, sha256 string) error {
	if err := checkFilename([]byte(filename)); err != nil {
		return fmt.Errorf("deb: %s %s: %w: filename: %w", name, version, ErrPlannedPackage, err)
	}
	if size <= 0 || size > MaxPackageSize {
		return fmt.Errorf("deb: %s %s: %w: size %d is not between 1 and %d bytes", name, version, ErrPlannedPackage, size, int64(MaxPackageSize))
	}
	if !isHex64(sha256) || sha256 != lowerHex(sha256) {
		return fmt.Errorf("deb: %s %s: %w: sha256 %q is not 64 lower-case hex digits", name, version, ErrPlannedPackage, truncate([]byte(sha256), 80))
	}
	return nil
}

func lowerHex(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'F' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
