package engine

import (
	"context"
	"fmt"
	"strings"

	"github.com/rootfsd/rootfsd/deb"
	"github.com/rootfsd/rootfsd/repo"
)

// lockChecker is implemented by backends that can compare a lock with the
// signed indexes (deb.Backend.CheckLock). Alpine packages carry their own
// signatures, which FetchPackage checks, so apk needs no such pass.
type lockChecker interface {
	CheckLock(ctx context.Context, l *repo.Lock) (*deb.LockCheck, error)
}

// checkLock runs before a build from a lock the user gave fetches
// anything: a package version the signed indexes still list must match
// the lock, and the indexes may not be older than the lock's (see
// SECURITY.md). Versions the indexes no longer list stand on the lock's
// SHA256 alone; they are reported.
func checkLock(ctx context.Context, b repo.Backend, l *repo.Lock, rep repo.Reporter) error {
	lc, ok := b.(lockChecker)
	if !ok {
		return nil
	}
	res, err := lc.CheckLock(ctx, l)
	if err != nil {
		return err
	}
	if len(res.Superseded) > 0 {
		rep.Report(repo.Event{Kind: repo.EventWarning, Message: fmt.Sprintf("lock: %d of %d packages are no longer in the indexes and are verified by the lock's SHA256 alone: %s",
			len(res.Superseded), len(l.Packages), strings.Join(res.Superseded, ", "))})
	}
	return nil
}
