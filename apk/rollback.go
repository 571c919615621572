package apk

import (
	"errors"
	"fmt"
	"time"

	"github.com/rootfsd/rootfsd/repo"
)

// ErrRollback is wrapped when a repository serves a validly signed index
// older than one already verified for the same URL: a mirror (or a proxy)
// replaying old metadata to keep known-vulnerable packages installable.
// apk-tools has no such check; an APKINDEX carries no Valid-Until, so its
// date (the mtime of the APKINDEX entry, set when the index is built) is
// all there is to compare.
var ErrRollback = errors.New("older than the index already seen (rollback)")

// metaIndexDate is the Cache meta namespace of the newest index date
// verified per index URL.
const metaIndexDate = "apk-index-date"

// checkRollback refuses idx when the cache remembers a newer index for
// url, and otherwise records idx's date. A cache that cannot record only
// loses the check for the next run, so that is not an error.
func checkRollback(c repo.Cache, url string, idx *Index) error {
	if idx.Date.IsZero() {
		return nil
	}
	if b, err := c.GetMeta(metaIndexDate, url); err == nil {
		seen, err := time.Parse(time.RFC3339Nano, string(b))
		if err == nil && idx.Date.Before(seen) {
			return fmt.Errorf("apk: index %s: %w: dated %s, %s seen before", url, ErrRollback,
				idx.Date.UTC().Format(time.RFC3339), seen.UTC().Format(time.RFC3339))
		}
		if err == nil && !idx.Date.After(seen) {
			return nil
		}
	}
	_ = c.SetMeta(metaIndexDate, url, []byte(idx.Date.UTC().Format(time.RFC3339Nano)))
	return nil
}
