package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"go.etcd.io/bbolt"
)

// Buckets of meta.db. Every top-level bucket is created with the database;
// keys are digests or caller-chosen names, values JSON.
var (
	bktBlobs    = []byte("blobs")    // digest -> blobRecord
	bktPackages = []byte("packages") // key -> PackageRecord
	bktIndexes  = []byte("indexes")  // key -> IndexRecord
	bktLayers   = []byte("layers")   // key -> LayerRecord
	bktRefs     = []byte("refs")     // ref name -> Ref
	bktMeta     = []byte("meta")     // namespace bucket -> key -> raw value
	bktLayout   = []byte("layout")   // "version" -> layoutVersion
)

// topBuckets lists every bucket Open creates.
var topBuckets = [][]byte{bktBlobs, bktPackages, bktIndexes, bktLayers, bktRefs, bktMeta, bktLayout}

// layoutVersion is the on-disk layout this code reads and writes.
const layoutVersion = 1

// blobRecord is the metadata of one blob.
type blobRecord struct {
	Size     int64     `json:"size"`
	Kind     string    `json:"kind,omitempty"`
	Name     string    `json:"name,omitempty"`
	Added    time.Time `json:"added"`
	LastUsed time.Time `json:"lastUsed"`
}

// openDB opens meta.db for one transaction. The caller holds meta.lock, so
// bbolt's own flock is granted at once unless a foreign tool holds it.
func (s *Store) openDB(path string, readOnly bool) (*bbolt.DB, error) {
	db, err := bbolt.Open(path, 0o644, &bbolt.Options{
		Timeout:      s.opt.LockTimeout,
		ReadOnly:     readOnly,
		NoStatistics: true,
	})
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	return db, nil
}

// view runs fn in a read transaction, sharing meta.lock with other readers.
func (s *Store) view(ctx context.Context, fn func(tx *bbolt.Tx) error) error {
	release, err := s.metaLock(ctx, false)
	if err != nil {
		return err
	}
	defer release()
	db, err := s.openDB(s.path(metaFile), true)
	if err != nil {
		return err
	}
	defer db.Close()
	return db.View(func(tx *bbolt.Tx) error {
		for _, b := range topBuckets {
			if tx.Bucket(b) == nil {
				return fmt.Errorf("store: %s: bucket %s missing; open the store read-write to repair it", metaFile, b)
			}
		}
		return fn(tx)
	})
}

// exclusive runs fn holding meta.lock exclusively with meta.db open, so fn
// may combine file operations (renames, removals) with transactions that
// no other process can interleave with.
func (s *Store) exclusive(ctx context.Context, fn func(db *bbolt.DB) error) error {
	if s.opt.ReadOnly {
		return fmt.Errorf("store: %s: %w", s.dir, ErrReadOnly)
	}
	release, err := s.metaLock(ctx, true)
	if err != nil {
		return err
	}
	defer release()
	db, err := s.openDB(s.path(metaFile), false)
	if err != nil {
		return err
	}
	if err := fn(db); err != nil {
		_ = db.Close()
		return err
	}
	if err := db.Close(); err != nil {
		return fmt.Errorf("store: close %s: %w", metaFile, err)
	}
	return nil
}

// update runs fn in a write transaction, first writing pending last-use
// times so that reads cost no transaction of their own.
func (s *Store) update(ctx context.Context, fn func(tx *bbolt.Tx) error) error {
	return s.exclusive(ctx, func(db *bbolt.DB) error { return s.updateTx(db, fn) })
}

// updateTx is update for callers already inside exclusive.
func (s *Store) updateTx(db *bbolt.DB, fn func(tx *bbolt.Tx) error) error {
	return db.Update(func(tx *bbolt.Tx) error {
		if err := ensureBuckets(tx); err != nil {
			return err
		}
		if err := s.writeTouches(tx); err != nil {
			return err
		}
		return fn(tx)
	})
}

func ensureBuckets(tx *bbolt.Tx) error {
	for _, b := range topBuckets {
		if _, err := tx.CreateBucketIfNotExists(b); err != nil {
			return fmt.Errorf("store: create bucket %s: %w", b, err)
		}
	}
	lb := tx.Bucket(bktLayout)
	if lb.Get([]byte("version")) == nil {
		return lb.Put([]byte("version"), []byte(strconv.Itoa(layoutVersion)))
	}
	return nil
}

// initMeta creates meta.db when missing. A new database is built under
// tmp/ and renamed into place, so a crash never leaves a half-initialised
// meta.db behind.
func (s *Store) initMeta(ctx context.Context) error {
	release, err := s.metaLock(ctx, true)
	if err != nil {
		return err
	}
	defer release()
	if _, err := os.Stat(s.path(metaFile)); err == nil {
		return nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	tmp := s.tempName("meta-init-")
	defer os.Remove(tmp)
	db, err := s.openDB(tmp, false)
	if err != nil {
		return err
	}
	if err := db.Update(ensureBuckets); err != nil {
		_ = db.Close()
		return fmt.Errorf("store: initialise %s: %w", metaFile, err)
	}
	if err := db.Close(); err != nil {
		return fmt.Errorf("store: initialise %s: %w", metaFile, err)
	}
	if err := os.Rename(tmp, s.path(metaFile)); err != nil {
		return fmt.Errorf("store: initialise %s: %w", metaFile, err)
	}
	return syncDir(s.dir)
}

// checkLayout refuses a store written by a newer layout.
func (s *Store) checkLayout(ctx context.Context) error {
	return s.view(ctx, func(tx *bbolt.Tx) error {
		v := tx.Bucket(bktLayout).Get([]byte("version"))
		n, err := strconv.Atoi(string(v))
		if err != nil || n > layoutVersion {
			return fmt.Errorf("store: %s: layout version %q is not supported (this rootfsd reads %d)", s.dir, v, layoutVersion)
		}
		return nil
	})
}

// getJSON decodes the value at key into v, reporting whether it existed.
func getJSON(b *bbolt.Bucket, key string, v any) (bool, error) {
	raw := b.Get([]byte(key))
	if raw == nil {
		return false, nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return true, fmt.Errorf("store: %s record %q: %w", b.Tx().DB().Path(), clip(key), err)
	}
	return true, nil
}

// putJSON encodes v at key.
func putJSON(b *bbolt.Bucket, key string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("store: encode record %q: %w", clip(key), err)
	}
	return b.Put([]byte(key), raw)
}

// noteUse remembers that a blob was read; the time is written with the
// next write transaction, by Flush or by Close.
func (s *Store) noteUse(digest string) {
	if s.opt.ReadOnly {
		return
	}
	s.touchMu.Lock()
	s.touched[digest] = s.now()
	s.touchMu.Unlock()
}

func (s *Store) hasTouches() bool {
	s.touchMu.Lock()
	defer s.touchMu.Unlock()
	return len(s.touched) > 0
}

// writeTouches moves pending last-use times into tx. If tx fails they are
// lost, which only makes a blob look older to Prune.
func (s *Store) writeTouches(tx *bbolt.Tx) error {
	s.touchMu.Lock()
	pending := s.touched
	s.touched = map[string]time.Time{}
	s.touchMu.Unlock()
	b := tx.Bucket(bktBlobs)
	for d, t := range pending {
		var rec blobRecord
		ok, err := getJSON(b, d, &rec)
		if err != nil || !ok || !t.After(rec.LastUsed) {
			continue
		}
		rec.LastUsed = t
		if err := putJSON(b, d, rec); err != nil {
			return err
		}
	}
	return nil
}

// Flush writes the last-use times of blobs read since the last write.
func (s *Store) Flush(ctx context.Context) error {
	return s.update(ctx, func(*bbolt.Tx) error { return nil })
}
