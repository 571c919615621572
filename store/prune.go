package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"go.etcd.io/bbolt"
)

// PruneOptions select the blobs Prune removes. A blob goes when All is
// set, or when it was last used longer than OlderThan ago, or when it is
// among the least recently used that must go to bring the store down to
// MaxBytes. With none of the three set Prune removes no blob, only
// leftovers of killed writers and old quarantined files.
type PruneOptions struct {
	OlderThan time.Duration
	// KeepReferenced keeps every blob a reference names, whatever else is
	// asked. Without it, removed blobs are also dropped from references.
	KeepReferenced bool
	// MaxBytes is the size the blobs may keep, 0 for no limit.
	MaxBytes int64
	All      bool
	// DryRun reports what would be removed and removes nothing.
	DryRun bool
}

// PruneReport says what Prune removed (or would remove, with DryRun).
type PruneReport struct {
	Removed    []Blob `json:"removed,omitempty"`
	Freed      Count  `json:"freed"`
	Kept       Count  `json:"kept"`
	Temp       Count  `json:"temp"`       // leftover temporary files removed
	Quarantine Count  `json:"quarantine"` // quarantined blobs removed
}

// Prune removes blobs as opt says, with their records, holding meta.lock
// so that no Put or AddRef interleaves. Records are committed first and
// files removed after, so a crash in between leaves unrecorded blobs that
// the next Prune or Verify handles, never records of missing blobs.
func (s *Store) Prune(ctx context.Context, opt PruneOptions) (PruneReport, error) {
	var rep PruneReport
	if s.opt.ReadOnly && !opt.DryRun {
		return rep, fmt.Errorf("store: prune: %w", ErrReadOnly)
	}
	if opt.OlderThan < 0 || opt.MaxBytes < 0 {
		return rep, fmt.Errorf("store: prune: negative age or size: %w", ErrInvalid)
	}
	decide := func(tx *bbolt.Tx) (map[string]bool, error) {
		present, _, err := s.scanBlobs()
		if err != nil {
			return nil, err
		}
		return s.pruneVictims(tx, present, opt, &rep)
	}
	if opt.DryRun {
		err := s.view(ctx, func(tx *bbolt.Tx) error { _, err := decide(tx); return err })
		return rep, err
	}
	err := s.exclusive(ctx, func(db *bbolt.DB) error {
		var victims map[string]bool
		err := s.updateTx(db, func(tx *bbolt.Tx) error {
			var err error
			if victims, err = decide(tx); err != nil {
				return err
			}
			return dropDigests(tx, victims, true)
		})
		if err != nil {
			return err
		}
		var errs []error
		for d := range victims {
			if err := os.Remove(s.blobPath(d)); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, err)
			}
		}
		if len(victims) > 0 {
			errs = append(errs, syncDir(s.path(blobsDir)))
		}
		if err := errors.Join(errs...); err != nil {
			return fmt.Errorf("store: prune: %w", err)
		}
		return nil
	})
	if err != nil {
		return rep, err
	}
	if rep.Temp.Files, rep.Temp.Bytes, err = s.cleanTemp(); err != nil {
		return rep, err
	}
	rep.Quarantine.Files, rep.Quarantine.Bytes, err = s.cleanQuarantine()
	return rep, err
}

// pruneVictims chooses the blobs to remove and fills rep.
func (s *Store) pruneVictims(tx *bbolt.Tx, present map[string]os.FileInfo, opt PruneOptions, rep *PruneReport) (map[string]bool, error) {
	referenced := map[string][]string{}
	refs, err := readRefs(tx)
	if err != nil {
		// Fail closed: never prune without knowing what is referenced.
		return nil, err
	}
	for _, r := range refs {
		for _, d := range r.Digests {
			referenced[d] = append(referenced[d], r.Name)
		}
	}
	b := tx.Bucket(bktBlobs)
	all := make([]Blob, 0, len(present))
	for d, fi := range present {
		var rec blobRecord
		if ok, err := getJSON(b, d, &rec); !ok || err != nil {
			t := fi.ModTime().UTC()
			rec = blobRecord{Added: t, LastUsed: t}
		}
		rec.Size = fi.Size()
		bl := rec.blob(d)
		bl.Refs = referenced[d]
		all = append(all, bl)
	}
	// Least recently used first, so MaxBytes removes the oldest.
	slices.SortFunc(all, func(a, b Blob) int {
		return cmp.Or(a.LastUsed.Compare(b.LastUsed), cmp.Compare(a.Digest, b.Digest))
	})
	cutoff := s.opt.Now().Add(-opt.OlderThan)
	victims := map[string]bool{}
	var kept int64
	for _, bl := range all {
		switch {
		case opt.KeepReferenced && len(bl.Refs) > 0:
		case opt.All, opt.OlderThan > 0 && bl.LastUsed.Before(cutoff):
			victims[bl.Digest] = true
			continue
		}
		kept += bl.Size
	}
	for _, bl := range all {
		if opt.MaxBytes == 0 || kept <= opt.MaxBytes {
			break
		}
		if victims[bl.Digest] || opt.KeepReferenced && len(bl.Refs) > 0 {
			continue
		}
		victims[bl.Digest] = true
		kept -= bl.Size
	}
	for _, bl := range all {
		if victims[bl.Digest] {
			rep.Removed = append(rep.Removed, bl)
			rep.Freed.add(bl.Size)
		} else {
			rep.Kept.add(bl.Size)
		}
	}
	slices.SortFunc(rep.Removed, func(a, b Blob) int { return cmp.Compare(a.Digest, b.Digest) })
	return victims, nil
}
