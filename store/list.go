package store

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"go.etcd.io/bbolt"
)

// Blob describes one stored blob.
type Blob struct {
	Digest   string    `json:"digest"`
	Size     int64     `json:"size"`
	Kind     string    `json:"kind,omitempty"`
	Name     string    `json:"name,omitempty"`
	Added    time.Time `json:"added"`
	LastUsed time.Time `json:"lastUsed"`
	// Refs names the references holding the blob.
	Refs []string `json:"refs,omitempty"`
}

func (r blobRecord) blob(digest string) Blob {
	return Blob{Digest: digest, Size: r.Size, Kind: r.Kind, Name: r.Name, Added: r.Added, LastUsed: r.LastUsed}
}

// Count is a number of files and their bytes.
type Count struct {
	Files int   `json:"files"`
	Bytes int64 `json:"bytes"`
}

func (c *Count) add(n int64) { c.Files++; c.Bytes += n }

// Usage is what the store occupies, in file sizes.
type Usage struct {
	Blobs Count `json:"blobs"`
	// Kinds splits Blobs by label; unlabelled blobs count under "".
	Kinds      map[string]Count `json:"kinds"`
	Referenced Count            `json:"referenced"`
	Temp       Count            `json:"temp"`
	Quarantine Count            `json:"quarantine"`
	MetaBytes  int64            `json:"metaBytes"`
}

// List returns every blob present, sorted by digest. Blobs without a
// record (left by a process killed before writing it) are listed with
// their file's size and time.
func (s *Store) List(ctx context.Context) ([]Blob, error) {
	present, _, err := s.scanBlobs()
	if err != nil {
		return nil, err
	}
	recs := map[string]blobRecord{}
	refsOf := map[string][]string{}
	err = s.view(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bktBlobs)
		if err := b.ForEach(func(k, _ []byte) error {
			var r blobRecord
			if ok, err := getJSON(b, string(k), &r); ok && err == nil {
				recs[string(k)] = r
			}
			return nil
		}); err != nil {
			return err
		}
		refs, err := readRefs(tx)
		for _, r := range refs {
			for _, d := range r.Digests {
				refsOf[d] = append(refsOf[d], r.Name)
			}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]Blob, 0, len(present))
	for d, fi := range present {
		r, ok := recs[d]
		if !ok {
			t := fi.ModTime().UTC()
			r = blobRecord{Added: t, LastUsed: t}
		}
		r.Size = fi.Size()
		b := r.blob(d)
		b.Refs = refsOf[d]
		out = append(out, b)
	}
	slices.SortFunc(out, func(a, b Blob) int { return strings.Compare(a.Digest, b.Digest) })
	return out, nil
}

// Usage sums the store's files by kind.
func (s *Store) Usage(ctx context.Context) (Usage, error) {
	blobs, err := s.List(ctx)
	if err != nil {
		return Usage{}, err
	}
	u := Usage{Kinds: map[string]Count{}}
	for _, b := range blobs {
		u.Blobs.add(b.Size)
		k := u.Kinds[b.Kind]
		k.add(b.Size)
		u.Kinds[b.Kind] = k
		if len(b.Refs) > 0 {
			u.Referenced.add(b.Size)
		}
	}
	for dir, c := range map[string]*Count{tmpDir: &u.Temp, quarantineDir: &u.Quarantine} {
		entries, err := os.ReadDir(s.path(dir))
		if err != nil {
			return u, fmt.Errorf("store: usage of %s: %w", dir, err)
		}
		for _, e := range entries {
			if fi, err := e.Info(); err == nil && fi.Mode().IsRegular() {
				c.add(fi.Size())
			}
		}
	}
	if fi, err := os.Stat(s.path(metaFile)); err == nil {
		u.MetaBytes = fi.Size()
	}
	return u, nil
}

// scanBlobs lists blobs/sha256: regular files named by a digest, and the
// names of anything else found there.
func (s *Store) scanBlobs() (present map[string]os.FileInfo, strays []string, err error) {
	entries, err := os.ReadDir(s.path(blobsDir))
	if err != nil {
		return nil, nil, fmt.Errorf("store: list blobs: %w", err)
	}
	present = make(map[string]os.FileInfo, len(entries))
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		if !isDigest(e.Name()) || !fi.Mode().IsRegular() {
			strays = append(strays, e.Name())
			continue
		}
		present[e.Name()] = fi
	}
	return present, strays, nil
}
