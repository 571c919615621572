package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/rootfsd/rootfsd/repo"
)

// Store implements repo.Cache.
var (
	_ repo.LabelingCache = (*Store)(nil)
	_ repo.FileCache     = (*Store)(nil)
)

// Defaults for the zero Options.
const (
	DefaultLockTimeout = 5 * time.Minute
	DefaultTempGrace   = time.Hour
	DefaultMaxBlobSize = 16 << 30
)

// Options tune a Store. The zero value is ready to use.
type Options struct {
	// ReadOnly opens an existing store without writing to it, for example
	// to list another user's cache. Writes fail with ErrReadOnly.
	ReadOnly bool
	// LockTimeout bounds how long a metadata transaction waits for other
	// processes (DefaultLockTimeout when zero). Lock is bounded by its ctx
	// only.
	LockTimeout time.Duration
	// TempGrace is how old a leftover temporary file must be before Open,
	// Verify or Prune remove it (DefaultTempGrace when zero). Files a live
	// writer still holds locked are never removed.
	TempGrace time.Duration
	// MaxBlobSize bounds a Put of unknown size (DefaultMaxBlobSize when
	// zero).
	MaxBlobSize int64
	// Now is the clock for added and last-use times (time.Now when nil).
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.LockTimeout <= 0 {
		o.LockTimeout = DefaultLockTimeout
	}
	if o.TempGrace <= 0 {
		o.TempGrace = DefaultTempGrace
	}
	if o.MaxBlobSize <= 0 {
		o.MaxBlobSize = DefaultMaxBlobSize
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Store is a content-addressed blob store rooted at one directory. It is
// safe for concurrent use by goroutines and by processes sharing the
// directory. It holds no open files between calls.
type Store struct {
	dir string
	opt Options

	// mu orders this process's metadata transactions before they compete
	// with other processes for meta.lock, so goroutines queue instead of
	// polling the flock.
	mu sync.RWMutex

	touchMu sync.Mutex
	touched map[string]time.Time // last uses not yet written to meta.db

	freshMu sync.Mutex
	fresh   map[string]fileID // blobs this process wrote or verified: fresh.go
}

// Directory layout below the root.
const (
	blobsDir      = "blobs/sha256"
	tmpDir        = "tmp"
	locksDir      = "locks"
	quarantineDir = "quarantine"
	metaFile      = "meta.db"
	metaLockFile  = "meta.lock"
)

// Open opens the store rooted at dir, creating it unless opt.ReadOnly. It
// removes temporary files older than opt.TempGrace left by killed writers.
func Open(dir string, opt Options) (*Store, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("store: cache directory %q: %w", dir, err)
	}
	s := &Store{dir: abs, opt: opt.withDefaults(), touched: map[string]time.Time{}}
	ctx, cancel := context.WithTimeout(context.Background(), s.opt.LockTimeout)
	defer cancel()
	if s.opt.ReadOnly {
		if _, err := os.Stat(s.path(metaFile)); errors.Is(err, fs.ErrPermission) {
			return nil, fmt.Errorf("store: cache directory %s is not readable by uid %d: %w", abs, os.Geteuid(), err)
		} else if err != nil {
			return nil, fmt.Errorf("store: cache directory %s: not a rootfsd store: %w", abs, err)
		}
		if err := s.checkLayout(ctx); err != nil {
			return nil, err
		}
		return s, nil
	}
	if err := s.setup(ctx); err != nil {
		return nil, s.dirError(err)
	}
	return s, nil
}

// setup creates the layout and the metadata database if missing, checks
// the layout version and removes leftovers of killed writers.
func (s *Store) setup(ctx context.Context) error {
	for _, d := range []string{"", blobsDir, tmpDir, locksDir, quarantineDir} {
		if err := os.MkdirAll(s.path(d), 0o755); err != nil {
			return err
		}
	}
	if _, err := os.Stat(s.path(metaFile)); err != nil {
		if err := s.initMeta(ctx); err != nil {
			return err
		}
	}
	if err := s.checkLayout(ctx); err != nil {
		return err
	}
	_, _, err := s.cleanTemp()
	return err
}

// dirError explains a failure to set up the cache directory, naming the
// user when it is a permission problem.
func (s *Store) dirError(err error) error {
	if errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("store: cache directory %s is not writable by uid %d (choose another cache directory or open it read-only): %w", s.dir, os.Geteuid(), err)
	}
	if strings.HasPrefix(err.Error(), "store: ") {
		return err
	}
	return fmt.Errorf("store: cache directory %s: %w", s.dir, err)
}

// DefaultDir is the cache directory used when none is configured:
// /var/cache/rootfsd for root, else $XDG_CACHE_HOME/rootfsd or
// ~/.cache/rootfsd.
func DefaultDir() (string, error) {
	return defaultDir(os.Geteuid(), os.Getenv)
}

func defaultDir(euid int, getenv func(string) string) (string, error) {
	if euid == 0 {
		return "/var/cache/rootfsd", nil
	}
	if x := getenv("XDG_CACHE_HOME"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, "rootfsd"), nil
	}
	home := getenv("HOME")
	if home == "" || !filepath.IsAbs(home) {
		return "", errors.New("store: default cache directory: neither XDG_CACHE_HOME nor HOME is an absolute path; set a cache directory")
	}
	return filepath.Join(home, ".cache", "rootfsd"), nil
}

// Dir returns the store's root directory.
func (s *Store) Dir() string { return s.dir }

// Close writes pending last-use times. The Store holds no other resources;
// using it after Close is allowed.
func (s *Store) Close() error {
	if s.opt.ReadOnly || !s.hasTouches() {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.opt.LockTimeout)
	defer cancel()
	return s.Flush(ctx)
}

// path joins names below the root.
func (s *Store) path(elem ...string) string {
	return filepath.Join(append([]string{s.dir}, elem...)...)
}

// blobPath is the file of a canonical digest.
func (s *Store) blobPath(digest string) string {
	return filepath.Join(s.dir, blobsDir, digest)
}

// Path returns the file name of the blob with digest, or "" when digest is
// malformed. The file may not exist; callers must not modify it.
func (s *Store) Path(digest string) string {
	d, err := ParseDigest(digest)
	if err != nil {
		return ""
	}
	return s.blobPath(d)
}

// Has reports whether the blob is present (not whether it is intact).
func (s *Store) Has(digest string) bool {
	p := s.Path(digest)
	if p == "" {
		return false
	}
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// now is the store's clock, in UTC, to the millisecond.
func (s *Store) now() time.Time { return s.opt.Now().UTC().Truncate(time.Millisecond) }

// syncDir makes a rename or removal in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}
