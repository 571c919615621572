package store

import (
	"context"
	"fmt"
	"os"
	"slices"
	"time"

	"go.etcd.io/bbolt"

	"github.com/rootfsd/rootfsd/repo"
)

// Ref is a named set of blobs something depends on: a lockfile, an image,
// a layer being assembled. Prune with KeepReferenced keeps them.
type Ref struct {
	Name    string    `json:"name"`
	Digests []string  `json:"digests"`
	Updated time.Time `json:"updated"`
}

// AddRef adds digests to the reference ref, creating it if needed. Every
// blob must be present (repo.ErrNotCached otherwise, and nothing changes),
// so a reference never starts out pointing at nothing.
func (s *Store) AddRef(ctx context.Context, ref string, digests ...string) error {
	if err := checkName("reference", ref); err != nil {
		return err
	}
	ds := make([]string, 0, len(digests))
	for _, d := range digests {
		c, err := ParseDigest(d)
		if err != nil {
			return err
		}
		ds = append(ds, c)
	}
	return s.update(ctx, func(tx *bbolt.Tx) error {
		for _, d := range ds {
			if _, err := os.Stat(s.blobPath(d)); err != nil {
				return fmt.Errorf("store: reference %q: blob %s: %w", clip(ref), d, repo.ErrNotCached)
			}
		}
		return s.addRefTx(tx, ref, ds)
	})
}

// addRefTx adds canonical digests to ref.
func (s *Store) addRefTx(tx *bbolt.Tx, ref string, ds []string) error {
	b := tx.Bucket(bktRefs)
	var r Ref
	if _, err := getJSON(b, ref, &r); err != nil {
		return err
	}
	r.Name, r.Updated = ref, s.now()
	r.Digests = append(r.Digests, ds...)
	slices.Sort(r.Digests)
	r.Digests = slices.Compact(r.Digests)
	return putJSON(b, ref, r)
}

// RemoveRef deletes the reference ref; its blobs stay until Prune. A
// missing reference is repo.ErrNotCached.
func (s *Store) RemoveRef(ctx context.Context, ref string) error {
	if err := checkName("reference", ref); err != nil {
		return err
	}
	return s.update(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bktRefs)
		if b.Get([]byte(ref)) == nil {
			return fmt.Errorf("store: reference %q: %w", clip(ref), repo.ErrNotCached)
		}
		return b.Delete([]byte(ref))
	})
}

// Refs lists every reference, sorted by name.
func (s *Store) Refs(ctx context.Context) ([]Ref, error) {
	var out []Ref
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		var err error
		out, err = readRefs(tx)
		return err
	})
	return out, err
}

func readRefs(tx *bbolt.Tx) ([]Ref, error) {
	var out []Ref
	b := tx.Bucket(bktRefs)
	err := b.ForEach(func(k, _ []byte) error {
		var r Ref
		if _, err := getJSON(b, string(k), &r); err != nil {
			return err
		}
		r.Name = string(k)
		out = append(out, r)
		return nil
	})
	return out, err
}

// Touch marks blobs as used now, for Prune's OlderThan and MaxBytes. Open
// and the record getters note uses themselves (written with the next
// transaction); Touch writes at once. Absent blobs are skipped.
func (s *Store) Touch(ctx context.Context, digests ...string) error {
	ds := make([]string, 0, len(digests))
	for _, d := range digests {
		c, err := ParseDigest(d)
		if err != nil {
			return err
		}
		ds = append(ds, c)
	}
	return s.update(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bktBlobs)
		now := s.now()
		for _, d := range ds {
			var rec blobRecord
			ok, err := getJSON(b, d, &rec)
			if err != nil {
				return err
			}
			if !ok {
				fi, err := os.Stat(s.blobPath(d))
				if err != nil {
					continue
				}
				rec = blobRecord{Size: fi.Size(), Added: fi.ModTime().UTC()}
			}
			rec.LastUsed = now
			if err := putJSON(b, d, rec); err != nil {
				return err
			}
		}
		return nil
	})
}

// dropDigests deletes the records of blobs that are gone: their blob
// records and the package, index and layer records pointing at them, and
// with fromRefs also their places in references (dropping references left
// empty).
func dropDigests(tx *bbolt.Tx, gone map[string]bool, fromRefs bool) error {
	if len(gone) == 0 {
		return nil
	}
	for d := range gone {
		if err := tx.Bucket(bktBlobs).Delete([]byte(d)); err != nil {
			return err
		}
	}
	for _, bk := range recordBuckets {
		b := tx.Bucket(bk)
		var dead [][]byte
		err := b.ForEach(func(k, _ []byte) error {
			var r struct{ Digest string }
			if _, err := getJSON(b, string(k), &r); err != nil || gone[r.Digest] {
				dead = append(dead, slices.Clone(k))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range dead {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
	}
	if !fromRefs {
		return nil
	}
	refs, err := readRefs(tx)
	if err != nil {
		return err
	}
	b := tx.Bucket(bktRefs)
	for _, r := range refs {
		kept := slices.DeleteFunc(slices.Clone(r.Digests), func(d string) bool { return gone[d] })
		switch {
		case len(kept) == len(r.Digests):
		case len(kept) == 0:
			err = b.Delete([]byte(r.Name))
		default:
			r.Digests = kept
			err = putJSON(b, r.Name, r)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
