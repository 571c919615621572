package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"syscall"
	"time"
)

// Polling bounds while another process holds a flock. flock cannot be
// interrupted by a context, so waiters poll with a non-blocking attempt,
// backing off from a millisecond so short transactions hand over quickly.
const (
	lockPollMin = time.Millisecond
	lockPollMax = 50 * time.Millisecond
)

// tryFlock attempts a non-blocking flock; how is syscall.LOCK_SH or
// LOCK_EX. It reports false when another open file holds a conflicting
// lock. Over NFS flock is emulated with byte-range locks, which is why
// exclusive locks are always taken on files opened for writing.
func tryFlock(f *os.File, how int) (bool, error) {
	for {
		err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EWOULDBLOCK):
			return false, nil
		default:
			return false, err
		}
	}
}

// waitFlock takes a flock on f, waiting until ctx is done.
func waitFlock(ctx context.Context, f *os.File, how int) error {
	delay := lockPollMin
	var timer *time.Timer
	for {
		ok, err := tryFlock(f, how)
		if err != nil || ok {
			return err
		}
		d := delay/2 + rand.N(delay)
		if timer == nil {
			timer = time.NewTimer(d)
			defer timer.Stop()
		} else {
			timer.Reset(d)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
		}
		delay = min(2*delay, lockPollMax)
	}
}

// unflock releases a flock and closes its file.
func unflock(f *os.File) {
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	_ = f.Close()
}

// Lock takes an exclusive lock called name, shared by every process using
// the store, for doing an expensive thing once (downloading one package,
// building one layer). It waits until the lock is free or ctx is done. The
// returned unlock releases it and may be called more than once. Two Lock
// calls in one process exclude each other as well. name must be 1-200
// characters of [A-Za-z0-9._+-].
func (s *Store) Lock(ctx context.Context, name string) (unlock func(), err error) {
	if err := checkFileName("lock name", name); err != nil {
		return nil, err
	}
	if s.opt.ReadOnly {
		return nil, fmt.Errorf("store: lock %s: %w", name, ErrReadOnly)
	}
	p := s.path(locksDir, name)
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("store: lock %s: %w", name, err)
	}
	if err := waitFlock(ctx, f, syscall.LOCK_EX); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("store: lock %s: %w", name, err)
	}
	var once sync.Once
	return func() { once.Do(func() { unflock(f) }) }, nil
}

// metaLock serialises metadata transactions: this process's goroutines
// through s.mu, processes through a flock on meta.lock, bounded by
// Options.LockTimeout. Lock files are never removed: removing one would
// let two processes lock different inodes under the same name.
func (s *Store) metaLock(ctx context.Context, exclusive bool) (release func(), err error) {
	if exclusive {
		s.mu.Lock()
	} else {
		s.mu.RLock()
	}
	unlockMu := s.mu.RUnlock
	if exclusive {
		unlockMu = s.mu.Unlock
	}
	flag, how := os.O_RDWR|os.O_CREATE, syscall.LOCK_EX
	if !exclusive {
		how = syscall.LOCK_SH
		if s.opt.ReadOnly {
			flag = os.O_RDONLY
		}
	}
	f, err := os.OpenFile(s.path(metaLockFile), flag, 0o644)
	if err != nil {
		unlockMu()
		return nil, err // names the file already
	}
	tctx, cancel := context.WithTimeout(ctx, s.opt.LockTimeout)
	defer cancel()
	if err := waitFlock(tctx, f, how); err != nil {
		_ = f.Close()
		unlockMu()
		if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("store: %s in %s: waited %v for another process: %w", metaLockFile, s.dir, s.opt.LockTimeout, ErrLockTimeout)
		}
		return nil, fmt.Errorf("store: %s: %w", metaLockFile, err)
	}
	return func() { unflock(f); unlockMu() }, nil
}
