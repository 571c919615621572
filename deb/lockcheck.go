package deb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rootfsd/rootfsd/repo"
)

// ErrLockMismatch is wrapped when a lock names a package version that a
// signed index still lists, with another file, size or SHA256.
var ErrLockMismatch = errors.New("lock does not match the signed index")

// LockCheck is what CheckLock found.
type LockCheck struct {
	// Confirmed lists the packages (name=version/arch) whose filename,
	// size and SHA256 a signed index confirms.
	Confirmed []string
	// Superseded lists the packages no signed index lists any more at
	// the locked version: older versions a lock pins (a legitimate
	// downgrade), or packages removed since. Their hashes stand on the
	// lock's authority alone.
	Superseded []string
}

// CheckLock compares a lock with the signed indexes of its request as the
// mirror serves them now (or as the cache holds them, offline). It fails
// when:
//   - a package version that an index still lists has another filename,
//     size or SHA256 in the lock (ErrLockMismatch): the lock was edited,
//     or made from a mirror that served something else;
//   - an index the lock was made from is now older than the lock says
//     (ErrRollback): the mirror serves stale metadata;
//   - a locked filename is not a clean relative path, its size is out of
//     bounds or its digest malformed (ErrPlannedPackage).
//
// A version the indexes no longer list is accepted: pinning an older
// version is what locks are for. Such packages are reported in
// Superseded; FetchPackage still verifies them against the lock's SHA256.
func (b *Backend) CheckLock(ctx context.Context, l *repo.Lock) (*LockCheck, error) {
	if l.Family != repo.FamilyDeb {
		return nil, fmt.Errorf("deb: lock of family %q", l.Family)
	}
	for _, p := range l.Packages {
		if err := checkPlanned(p.Name, p.Version, p.Filename, p.Size, p.SHA256); err != nil {
			return nil, fmt.Errorf("lock: %w", err)
		}
	}
	req := l.Request
	if req.Distro == "" {
		req.Distro = l.Distro
	}
	if req.Arch == "" {
		req.Arch = l.Arch
	}
	u, indexes, _, err := b.Universe(ctx, req)
	if err != nil {
		return nil, err
	}
	defer u.Close()
	if err := checkLockDates(l.Indexes, indexes); err != nil {
		return nil, err
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	res := &LockCheck{}
	for _, p := range l.Packages {
		ok, err := u.confirm(p)
		if err != nil {
			return nil, err
		}
		if ok {
			res.Confirmed = append(res.Confirmed, p.ID())
		} else {
			res.Superseded = append(res.Superseded, p.ID())
		}
	}
	return res, nil
}

// confirm looks for p's version in the universe: true when a stanza
// confirms it, false when no stanza lists the version, an error when
// stanzas list it and none matches.
func (u *Universe) confirm(p repo.Planned) (bool, error) {
	var seen []string
	for _, r := range u.named(p.Name) {
		c, err := u.load(r)
		if err != nil {
			return false, err
		}
		if c.Version != p.Version || c.Arch != p.Arch {
			continue
		}
		if c.Filename == p.Filename && c.Size == p.Size && c.SHA256 == p.SHA256 {
			return true, nil
		}
		seen = append(seen, fmt.Sprintf("%s has %s, %d bytes, sha256 %s", c.File.Suite, c.Filename, c.Size, c.SHA256))
	}
	if len(seen) == 0 {
		return false, nil
	}
	return false, fmt.Errorf("deb: lock: %s: %w: the lock says %s, %d bytes, sha256 %s; %s",
		p.ID(), ErrLockMismatch, p.Filename, p.Size, p.SHA256, joinReasons(seen))
}

// checkLockDates refuses indexes older than those the lock was made from.
func checkLockDates(locked, now []repo.Index) error {
	for _, li := range locked {
		ld, err := time.Parse(time.RFC3339, li.Date)
		if err != nil {
			continue // a lock without dates checks nothing here
		}
		for _, ni := range now {
			if ni.Name != li.Name || ni.URL != li.URL {
				continue
			}
			nd, err := time.Parse(time.RFC3339, ni.Date)
			if err == nil && nd.Before(ld) {
				return fmt.Errorf("deb: lock: index %s: %w: Date %s, the lock was made from %s", ni.Name, ErrRollback, ni.Date, li.Date)
			}
		}
	}
	return nil
}
