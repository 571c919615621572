package store

import (
	"bytes"
	"context"
	"fmt"

	"go.etcd.io/bbolt"

	"github.com/rootfsd/rootfsd/repo"
)

// maxMetaValue bounds a value stored with SetMeta: meta records are small
// (ETags, dates, digests), larger data belongs in a blob.
const maxMetaValue = 1 << 20

// GetMeta reads the value of key in namespace ns; a missing key is
// repo.ErrNotCached. GetMeta implements repo.Cache; it waits for other
// processes at most Options.LockTimeout.
func (s *Store) GetMeta(ns, key string) ([]byte, error) {
	return s.GetMetaContext(context.Background(), ns, key)
}

// SetMeta writes value under key in namespace ns. SetMeta implements
// repo.Cache.
func (s *Store) SetMeta(ns, key string, value []byte) error {
	return s.SetMetaContext(context.Background(), ns, key, value)
}

// GetMetaContext is GetMeta with a context.
func (s *Store) GetMetaContext(ctx context.Context, ns, key string) ([]byte, error) {
	if err := checkMetaKey(ns, key); err != nil {
		return nil, err
	}
	var out []byte
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		if b := tx.Bucket(bktMeta).Bucket([]byte(ns)); b != nil {
			if v := b.Get([]byte(key)); v != nil {
				out = append([]byte{}, v...)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if out == nil {
		return nil, fmt.Errorf("store: meta %s/%s: %w", ns, clip(key), repo.ErrNotCached)
	}
	return out, nil
}

// SetMetaContext is SetMeta with a context.
func (s *Store) SetMetaContext(ctx context.Context, ns, key string, value []byte) error {
	if err := checkMetaKey(ns, key); err != nil {
		return err
	}
	if len(value) > maxMetaValue {
		return fmt.Errorf("store: meta %s/%s: %d bytes exceed the limit of %d: %w", ns, clip(key), len(value), maxMetaValue, ErrTooLarge)
	}
	if value == nil {
		value = []byte{}
	}
	// Writing what is there already would cost a synced transaction.
	if old, err := s.GetMetaContext(ctx, ns, key); err == nil && bytes.Equal(old, value) {
		return nil
	}
	return s.update(ctx, func(tx *bbolt.Tx) error {
		b, err := tx.Bucket(bktMeta).CreateBucketIfNotExists([]byte(ns))
		if err != nil {
			return fmt.Errorf("store: meta %s: %w", ns, err)
		}
		return b.Put([]byte(key), value)
	})
}

// DeleteMeta removes key from namespace ns; a missing key is no error.
func (s *Store) DeleteMeta(ctx context.Context, ns, key string) error {
	if err := checkMetaKey(ns, key); err != nil {
		return err
	}
	return s.update(ctx, func(tx *bbolt.Tx) error {
		if b := tx.Bucket(bktMeta).Bucket([]byte(ns)); b != nil {
			return b.Delete([]byte(key))
		}
		return nil
	})
}

func checkMetaKey(ns, key string) error {
	if err := checkName("meta namespace", ns); err != nil {
		return err
	}
	return checkName("meta key", key)
}
