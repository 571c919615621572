package deb

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Errors of Release checks that callers branch on.
var (
	ErrExpired       = errors.New("expired (Valid-Until is past)")
	ErrFutureDate    = errors.New("dated in the future")
	ErrRollback      = errors.New("older than the release already seen (rollback)")
	ErrSuiteMismatch = errors.New("suite mismatch")
)

const (
	// DefaultMaxFuture is how far a Release's Date may lie ahead of the clock.
	DefaultMaxFuture = 10 * time.Minute
	// maxReleaseFiles bounds the SHA256 list of a Release.
	maxReleaseFiles = 200000
	maxReleasePath  = 1024
)

// Release is a parsed Release file (the signed body of an InRelease).
type Release struct {
	Origin, Label, Suite, Codename, Version string
	Date                                    time.Time
	ValidUntil                              time.Time // zero when absent
	Architectures, Components               []string
	AcquireByHash                           bool
	// Files is the SHA256 list, by path below dists/SUITE/.
	Files map[string]ReleaseFile
}

// ReleaseFile is one entry of a Release's SHA256 list.
type ReleaseFile struct {
	Path   string
	Size   int64
	SHA256 string
}

// ParseRelease parses a Release file. It needs a Date and a SHA256 list
// (the weaker MD5Sum and SHA1 lists are ignored).
func ParseRelease(data []byte) (*Release, error) {
	var r *Release
	err := ParseControl(data, func(p *Paragraph) error {
		if r != nil {
			return fmt.Errorf("line %d: more than one paragraph", p.Line)
		}
		r = &Release{
			Origin:        p.GetString("Origin"),
			Label:         p.GetString("Label"),
			Suite:         p.GetString("Suite"),
			Codename:      p.GetString("Codename"),
			Version:       p.GetString("Version"),
			Architectures: strings.Fields(p.GetString("Architectures")),
			Components:    strings.Fields(p.GetString("Components")),
			AcquireByHash: strings.EqualFold(p.GetString("Acquire-By-Hash"), "yes"),
		}
		var err error
		if r.Date, err = ParseDate(p.GetString("Date")); err != nil {
			return fmt.Errorf("Date: %w", err)
		}
		if v := p.GetString("Valid-Until"); v != "" {
			if r.ValidUntil, err = ParseDate(v); err != nil {
				return fmt.Errorf("Valid-Until: %w", err)
			}
		}
		if p.Get("SHA256") == nil {
			return errors.New("no SHA256 file list")
		}
		r.Files, err = parseFileList(p.GetString("SHA256"))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("Release: %w", err)
	}
	if r == nil {
		return nil, errors.New("Release: empty")
	}
	return r, nil
}

// parseFileList parses the lines "hex size path" of a checksum field.
func parseFileList(v string) (map[string]ReleaseFile, error) {
	files := map[string]ReleaseFile{}
	for i, line := range strings.Split(v, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 {
			return nil, fmt.Errorf("SHA256 line %d: want \"hash size path\", got %q", i, truncate([]byte(line), 80))
		}
		if !isHex64(f[0]) {
			return nil, fmt.Errorf("SHA256 line %d: bad hash %q", i, truncate([]byte(f[0]), 80))
		}
		size, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil || size < 0 {
			return nil, fmt.Errorf("SHA256 line %d: bad size %q", i, truncate([]byte(f[1]), 30))
		}
		p := f[2]
		if len(p) > maxReleasePath || strings.HasPrefix(p, "/") || p == ".." || strings.HasPrefix(p, "../") || strings.Contains(p, "/../") || strings.HasSuffix(p, "/..") {
			return nil, fmt.Errorf("SHA256 line %d: bad path %q", i, truncate([]byte(p), 80))
		}
		rf := ReleaseFile{Path: p, Size: size, SHA256: strings.ToLower(f[0])}
		if old, dup := files[p]; dup && old != rf {
			return nil, fmt.Errorf("SHA256 line %d: %s listed twice with different sums", i, p)
		}
		if len(files) >= maxReleaseFiles {
			return nil, fmt.Errorf("SHA256: more than %d files", maxReleaseFiles)
		}
		files[p] = rf
	}
	return files, nil
}

func isHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// ParseDate parses a Release date leniently: RFC 1123 in UTC (or with a
// numeric offset), tolerating single-digit days and hours and repeated
// spaces. Named zones other than UTC, GMT and Z are refused, since their
// offset is unknown.
func ParseDate(s string) (time.Time, error) {
	norm := strings.Join(strings.Fields(s), " ")
	if norm == "" {
		return time.Time{}, errors.New("missing")
	}
	// Tried on the date with runs of spaces collapsed: RFC 1123 with a
	// named or numeric zone, with or without the weekday. Go's "2" and
	// "15" accept one or two digits, which covers Ubuntu's
	// "Sat, 21 Nov 2026  0:45:27 UTC".
	layouts := [...]string{
		"Mon, 2 Jan 2006 15:04:05 -0700",
		"Mon, 2 Jan 2006 15:04:05 MST",
		"2 Jan 2006 15:04:05 -0700",
		"2 Jan 2006 15:04:05 MST",
	}
	for _, layout := range layouts {
		t, err := time.Parse(layout, norm)
		if err != nil {
			continue
		}
		if strings.HasSuffix(layout, "MST") {
			switch zone, _ := t.Zone(); zone {
			case "UTC", "GMT", "Z":
			default:
				return time.Time{}, fmt.Errorf("%q: time zone %q is not UTC", truncate([]byte(s), 60), zone)
			}
		}
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q is not an RFC 1123 date", truncate([]byte(s), 60))
}

// ReleaseCheck is what a Release is checked against.
type ReleaseCheck struct {
	// Suite is the suite asked for; the Release's Suite or Codename must
	// equal it.
	Suite string
	// Now is the clock; Valid-Until must be after it and Date no more
	// than MaxFuture (0: DefaultMaxFuture) ahead of it.
	Now       time.Time
	MaxFuture time.Duration
	// NotBefore is the Date of the Release seen before for this suite and
	// mirror; an older Date is a rollback. Zero skips the check.
	NotBefore time.Time
}

// Check applies c to r.
func (r *Release) Check(c ReleaseCheck) error {
	if c.Suite != r.Suite && c.Suite != r.Codename {
		return fmt.Errorf("%w: asked for %q, Release says Suite %q, Codename %q", ErrSuiteMismatch, c.Suite, r.Suite, r.Codename)
	}
	if !r.ValidUntil.IsZero() && c.Now.After(r.ValidUntil) {
		return fmt.Errorf("%w: valid until %s, now %s", ErrExpired, r.ValidUntil.Format(time.RFC3339), c.Now.UTC().Format(time.RFC3339))
	}
	maxFuture := c.MaxFuture
	if maxFuture <= 0 {
		maxFuture = DefaultMaxFuture
	}
	if r.Date.After(c.Now.Add(maxFuture)) {
		return fmt.Errorf("%w: Date %s, now %s", ErrFutureDate, r.Date.Format(time.RFC3339), c.Now.UTC().Format(time.RFC3339))
	}
	if !c.NotBefore.IsZero() && r.Date.Before(c.NotBefore) {
		return fmt.Errorf("%w: Date %s, seen %s before", ErrRollback, r.Date.Format(time.RFC3339), c.NotBefore.Format(time.RFC3339))
	}
	return nil
}

// File returns the SHA256 entry of path.
func (r *Release) File(path string) (ReleaseFile, bool) {
	f, ok := r.Files[path]
	return f, ok
}
