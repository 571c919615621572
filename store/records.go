package store

import (
	"context"
	"fmt"
	"os"
	"time"

	"go.etcd.io/bbolt"

	"github.com/rootfsd/rootfsd/repo"
)

// PackageRecord maps a package, as a plan names it, to the blob holding
// its file, so that formats whose indexes carry no SHA256 (apk) find
// cached packages too.
type PackageRecord struct {
	Key        string    `json:"key"` // see PackageKey
	Digest     string    `json:"digest"`
	Size       int64     `json:"size"`
	Name       string    `json:"name"`
	Version    string    `json:"version"`
	Arch       string    `json:"arch"`
	Repository string    `json:"repository,omitempty"`
	Filename   string    `json:"filename,omitempty"`
	Added      time.Time `json:"added"`
}

// PackageKey identifies a planned package by its identity and the checksum
// its index vouches for: two repositories offering different files under
// one name and version get different keys.
func PackageKey(p repo.Planned) string {
	switch {
	case p.SHA256 != "":
		return p.ID() + "@sha256:" + p.SHA256
	case p.Checksum != "":
		return p.ID() + "@" + p.Checksum
	}
	return p.ID() + "@" + p.Repository + "/" + p.Filename
}

// NewPackageRecord describes the blob digest holding the file of p.
func NewPackageRecord(p repo.Planned, digest string) PackageRecord {
	return PackageRecord{Key: PackageKey(p), Digest: digest, Size: p.Size, Name: p.Name,
		Version: p.Version, Arch: p.Arch, Repository: p.Repository, Filename: p.Filename}
}

// IndexRecord is a snapshot of a verified index (InRelease, Packages,
// APKINDEX.tar.gz) kept as a blob.
type IndexRecord struct {
	Key     string    `json:"key"` // caller-chosen, e.g. the index URL
	Digest  string    `json:"digest"`
	Size    int64     `json:"size"`
	Name    string    `json:"name,omitempty"` // e.g. "noble-updates"
	URL     string    `json:"url,omitempty"`
	Date    string    `json:"date,omitempty"` // the index's own date
	Fetched time.Time `json:"fetched"`
}

// LayerRecord maps a layer key (the digest of the plan it was built from)
// to its tarball blob.
type LayerRecord struct {
	Key       string    `json:"key"`
	Digest    string    `json:"digest"` // the blob, as stored (compressed or not)
	Size      int64     `json:"size"`
	DiffID    string    `json:"diffID,omitempty"` // digest of the uncompressed tar
	MediaType string    `json:"mediaType,omitempty"`
	Created   time.Time `json:"created"`
}

func (r PackageRecord) blobDigest() string { return r.Digest }
func (r IndexRecord) blobDigest() string   { return r.Digest }
func (r LayerRecord) blobDigest() string   { return r.Digest }

// record is a keyed entry pointing at one blob.
type record interface{ blobDigest() string }

// recordBuckets are the buckets holding records that point at blobs.
var recordBuckets = [][]byte{bktPackages, bktIndexes, bktLayers}

// SetPackage records a package file. The blob must be present.
func (s *Store) SetPackage(ctx context.Context, r PackageRecord) error {
	if r.Added.IsZero() {
		r.Added = s.now()
	}
	if err := canonical(&r.Digest); err != nil {
		return err
	}
	return setRecord(s, ctx, bktPackages, r.Key, r)
}

// Package returns the record under key. It is repo.ErrNotCached when there
// is none or its blob is gone.
func (s *Store) Package(ctx context.Context, key string) (PackageRecord, error) {
	return getRecord[PackageRecord](s, ctx, bktPackages, key)
}

// Packages lists every package record, sorted by key.
func (s *Store) Packages(ctx context.Context) ([]PackageRecord, error) {
	return listRecords[PackageRecord](s, ctx, bktPackages)
}

// SetIndex records an index snapshot. The blob must be present.
func (s *Store) SetIndex(ctx context.Context, r IndexRecord) error {
	if r.Fetched.IsZero() {
		r.Fetched = s.now()
	}
	if err := canonical(&r.Digest); err != nil {
		return err
	}
	return setRecord(s, ctx, bktIndexes, r.Key, r)
}

// Index returns the index record under key (repo.ErrNotCached if none).
func (s *Store) Index(ctx context.Context, key string) (IndexRecord, error) {
	return getRecord[IndexRecord](s, ctx, bktIndexes, key)
}

// Indexes lists every index record, sorted by key.
func (s *Store) Indexes(ctx context.Context) ([]IndexRecord, error) {
	return listRecords[IndexRecord](s, ctx, bktIndexes)
}

// SetLayer records a layer. The blob must be present.
func (s *Store) SetLayer(ctx context.Context, r LayerRecord) error {
	if r.Created.IsZero() {
		r.Created = s.now()
	}
	if err := canonical(&r.Digest); err != nil {
		return err
	}
	return setRecord(s, ctx, bktLayers, r.Key, r)
}

// Layer returns the layer record under key (repo.ErrNotCached if none).
func (s *Store) Layer(ctx context.Context, key string) (LayerRecord, error) {
	return getRecord[LayerRecord](s, ctx, bktLayers, key)
}

// Layers lists every layer record, sorted by key.
func (s *Store) Layers(ctx context.Context) ([]LayerRecord, error) {
	return listRecords[LayerRecord](s, ctx, bktLayers)
}

// DeleteRecord removes the package, index or layer record under key from
// the bucket named by kind ("packages", "indexes" or "layers"). The blob
// stays until Prune.
func (s *Store) DeleteRecord(ctx context.Context, kind, key string) error {
	for _, b := range recordBuckets {
		if string(b) == kind {
			return s.update(ctx, func(tx *bbolt.Tx) error { return tx.Bucket(b).Delete([]byte(key)) })
		}
	}
	return fmt.Errorf("store: record kind %q: want packages, indexes or layers: %w", kind, ErrInvalid)
}

// canonical rewrites *digest in the store's form.
func canonical(digest *string) error {
	d, err := ParseDigest(*digest)
	*digest = d
	return err
}

// setRecord writes v under key, refusing when the blob is absent so that
// no record is born dangling.
func setRecord[T record](s *Store, ctx context.Context, bkt []byte, key string, v T) error {
	if err := checkName(string(bkt)+" key", key); err != nil {
		return err
	}
	d := v.blobDigest()
	return s.update(ctx, func(tx *bbolt.Tx) error {
		if _, err := os.Stat(s.blobPath(d)); err != nil {
			return fmt.Errorf("store: %s record %q: blob %s: %w", bkt, clip(key), d, repo.ErrNotCached)
		}
		return putJSON(tx.Bucket(bkt), key, v)
	})
}

func getRecord[T record](s *Store, ctx context.Context, bkt []byte, key string) (T, error) {
	var v T
	var ok bool
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		var err error
		ok, err = getJSON(tx.Bucket(bkt), key, &v)
		return err
	})
	if err != nil {
		return v, err
	}
	if !ok {
		return v, fmt.Errorf("store: %s record %q: %w", bkt, clip(key), repo.ErrNotCached)
	}
	if !s.Has(v.blobDigest()) {
		return v, fmt.Errorf("store: %s record %q: blob %s is gone: %w", bkt, clip(key), v.blobDigest(), repo.ErrNotCached)
	}
	s.noteUse(v.blobDigest())
	return v, nil
}

func listRecords[T record](s *Store, ctx context.Context, bkt []byte) ([]T, error) {
	var out []T
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		return tx.Bucket(bkt).ForEach(func(k, _ []byte) error {
			var v T
			if _, err := getJSON(tx.Bucket(bkt), string(k), &v); err != nil {
				return err
			}
			out = append(out, v)
			return nil
		})
	})
	return out, err
}
