package store

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// tempName returns a fresh name below tmp/. Temporary files live in the
// store so that renaming them into blobs/ is atomic.
func (s *Store) tempName(prefix string) string {
	return s.path(tmpDir, prefix+strconv.Itoa(os.Getpid())+"-"+strconv.FormatUint(rand.Uint64(), 36))
}

// createTemp creates a file below tmp/ and holds an exclusive flock on it
// for as long as it is open, which tells cleanTemp that a writer is alive.
func (s *Store) createTemp(prefix string) (*os.File, error) {
	for range 10 {
		f, err := os.OpenFile(s.tempName(prefix), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return nil, s.dirError(err)
		}
		if ok, err := tryFlock(f, syscall.LOCK_EX); err != nil || !ok {
			_ = f.Close()
			_ = os.Remove(f.Name())
			return nil, fmt.Errorf("store: lock temporary file %s: %v", f.Name(), err)
		}
		return f, nil
	}
	return nil, fmt.Errorf("store: cannot create a temporary file in %s", s.path(tmpDir))
}

// cleanTemp removes files below tmp/ older than Options.TempGrace that no
// live writer holds locked: leftovers of killed processes.
func (s *Store) cleanTemp() (removed int, bytes int64, err error) {
	return s.cleanOld(tmpDir, true)
}

// cleanQuarantine removes quarantined blobs older than Options.TempGrace.
func (s *Store) cleanQuarantine() (removed int, bytes int64, err error) {
	return s.cleanOld(quarantineDir, false)
}

func (s *Store) cleanOld(dir string, checkLock bool) (removed int, bytes int64, err error) {
	if s.opt.ReadOnly {
		return 0, 0, nil
	}
	entries, err := os.ReadDir(s.path(dir))
	if err != nil {
		return 0, 0, fmt.Errorf("store: clean %s: %w", dir, err)
	}
	cutoff := s.opt.Now().Add(-s.opt.TempGrace)
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil || !fi.Mode().IsRegular() || !fi.ModTime().Before(cutoff) {
			continue
		}
		p := filepath.Join(s.path(dir), e.Name())
		if checkLock {
			ok, err := removeUnlocked(p)
			if err != nil {
				return removed, bytes, fmt.Errorf("store: clean %s: %w", dir, err)
			}
			if !ok {
				continue
			}
		} else if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return removed, bytes, fmt.Errorf("store: clean %s: %w", dir, err)
		}
		removed++
		bytes += fi.Size()
	}
	return removed, bytes, nil
}

// removeUnlocked removes p unless a writer holds its exclusive flock. The
// test takes a shared lock on a read-only descriptor: that needs only read
// permission (a writer has made the file read-only before its rename) and
// works over NFS, where flock becomes a byte-range lock.
func removeUnlocked(p string) (bool, error) {
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, os.ErrPermission) {
		// Gone already, or another user's file whose lock we cannot test.
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	ok, err := tryFlock(f, syscall.LOCK_SH)
	if err != nil || !ok {
		return false, err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return false, err
	}
	return true, nil
}
