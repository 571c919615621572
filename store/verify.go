package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"go.etcd.io/bbolt"
)

// ProblemKind classifies what Verify found.
type ProblemKind string

const (
	// ProblemCorrupt: a blob's content does not match its digest. Repair
	// moves it to quarantine; it will be fetched again.
	ProblemCorrupt ProblemKind = "corrupt"
	// ProblemMissing: a blob record without its blob. Repair drops it.
	ProblemMissing ProblemKind = "missing"
	// ProblemUnrecorded: a blob without a record, left by a process killed
	// between rename and commit. Repair records it.
	ProblemUnrecorded ProblemKind = "unrecorded"
	// ProblemSize: a record's size differs from the file. Repair fixes it.
	ProblemSize ProblemKind = "size"
	// ProblemStray: a file in blobs/ not named by a digest. Repair moves it
	// to quarantine.
	ProblemStray ProblemKind = "stray"
	// ProblemDangling: a package, index or layer record pointing at a blob
	// that is gone, or one that cannot be decoded. Repair drops it.
	ProblemDangling ProblemKind = "dangling"
	// ProblemDanglingRef: a reference naming a blob that is gone. Not
	// repaired: rebuild what the reference stands for, or remove it.
	ProblemDanglingRef ProblemKind = "dangling-ref"
)

// Problem is one inconsistency Verify found.
type Problem struct {
	Kind   ProblemKind `json:"kind"`
	Digest string      `json:"digest,omitempty"`
	// Key names the record or reference concerned, or the stray file.
	Key      string `json:"key,omitempty"`
	Detail   string `json:"detail,omitempty"`
	Repaired bool   `json:"repaired"`
}

// VerifyReport is the result of Verify.
type VerifyReport struct {
	Blobs       Count     `json:"blobs"` // blobs re-hashed
	Problems    []Problem `json:"problems,omitempty"`
	TempRemoved Count     `json:"tempRemoved"` // leftovers of killed writers
}

// OK reports whether every problem found was repaired.
func (r VerifyReport) OK() bool {
	for _, p := range r.Problems {
		if !p.Repaired {
			return false
		}
	}
	return true
}

// Verify re-hashes every blob and checks the metadata against the files,
// repairing what can be repaired (nothing when the store is read-only).
// Hashing runs without holding meta.lock, so other processes keep working;
// the metadata is reconciled in one exclusive transaction at the end.
func (s *Store) Verify(ctx context.Context) (VerifyReport, error) {
	var rep VerifyReport
	present, strays, err := s.scanBlobs()
	if err != nil {
		return rep, err
	}
	digests := make([]string, 0, len(present))
	for d := range present {
		digests = append(digests, d)
	}
	slices.Sort(digests)
	buf := make([]byte, copyBufSize)
	for _, d := range digests {
		got, fi, err := hashFile(ctx, s.blobPath(d), buf)
		if errors.Is(err, os.ErrNotExist) {
			continue // pruned meanwhile
		}
		if err != nil {
			return rep, fmt.Errorf("store: verify blob %s: %w", d, err)
		}
		rep.Blobs.add(fi.Size())
		if got == d {
			continue
		}
		p := Problem{Kind: ProblemCorrupt, Digest: d, Detail: "content hashes to " + got}
		if !s.opt.ReadOnly {
			if err := s.quarantine(ctx, d, fi); err != nil {
				return rep, err
			}
			p.Repaired = true
		}
		rep.Problems = append(rep.Problems, p)
	}
	for _, name := range strays {
		p := Problem{Kind: ProblemStray, Key: name}
		fi, err := os.Lstat(s.path(blobsDir, name))
		switch {
		case err != nil:
			continue
		case !fi.Mode().IsRegular():
			p.Detail = "not a regular file: remove it by hand"
		case !s.opt.ReadOnly:
			if err := s.moveToQuarantine(s.path(blobsDir, name), name); err != nil {
				return rep, err
			}
			p.Repaired = true
		}
		rep.Problems = append(rep.Problems, p)
	}
	found, err := s.reconcile(ctx)
	if err != nil {
		return rep, err
	}
	rep.Problems = append(rep.Problems, found...)
	rep.TempRemoved.Files, rep.TempRemoved.Bytes, err = s.cleanTemp()
	return rep, err
}

// hashFile returns the hex SHA256 of the file at p.
func hashFile(ctx context.Context, p string, buf []byte) (string, os.FileInfo, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", nil, err
	}
	h := sha256.New()
	if _, err := io.CopyBuffer(h, &ctxReader{ctx: ctx, r: f}, buf); err != nil {
		return "", nil, err
	}
	return hex.EncodeToString(h.Sum(nil)), fi, nil
}

// reconcile checks the metadata against the blob files under an exclusive
// lock, repairing unless the store is read-only.
func (s *Store) reconcile(ctx context.Context) ([]Problem, error) {
	var found []Problem
	check := func(tx *bbolt.Tx, repair bool) error {
		present, _, err := s.scanBlobs()
		if err != nil {
			return err
		}
		found = nil
		for _, step := range []func(*bbolt.Tx, map[string]os.FileInfo, bool) ([]Problem, error){
			s.reconcileBlobs, reconcileRecords, reconcileRefs,
		} {
			ps, err := step(tx, present, repair)
			if err != nil {
				return err
			}
			found = append(found, ps...)
		}
		return nil
	}
	if s.opt.ReadOnly {
		return found, s.view(ctx, func(tx *bbolt.Tx) error { return check(tx, false) })
	}
	return found, s.update(ctx, func(tx *bbolt.Tx) error { return check(tx, true) })
}

// reconcileBlobs matches blob records with blob files.
func (s *Store) reconcileBlobs(tx *bbolt.Tx, present map[string]os.FileInfo, repair bool) ([]Problem, error) {
	var found []Problem
	b := tx.Bucket(bktBlobs)
	var missing []string
	rewrite := map[string]bool{} // present blobs whose record is absent or unreadable
	resized := map[string]blobRecord{}
	err := b.ForEach(func(k, _ []byte) error {
		d := string(k)
		var rec blobRecord
		_, derr := getJSON(b, d, &rec)
		fi, ok := present[d]
		switch {
		case !ok:
			found = append(found, Problem{Kind: ProblemMissing, Digest: d, Repaired: repair})
			missing = append(missing, d)
		case derr != nil:
			found = append(found, Problem{Kind: ProblemUnrecorded, Digest: d, Repaired: repair, Detail: derr.Error()})
			rewrite[d] = true
		case rec.Size != fi.Size():
			found = append(found, Problem{Kind: ProblemSize, Digest: d, Repaired: repair,
				Detail: fmt.Sprintf("recorded %d bytes, file has %d", rec.Size, fi.Size())})
			rec.Size = fi.Size()
			resized[d] = rec
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for d := range present {
		if b.Get([]byte(d)) == nil {
			found = append(found, Problem{Kind: ProblemUnrecorded, Digest: d, Repaired: repair})
			rewrite[d] = true
		}
	}
	if !repair {
		return found, nil
	}
	for _, d := range missing {
		if err := b.Delete([]byte(d)); err != nil {
			return nil, err
		}
	}
	for d, rec := range resized {
		if err := putJSON(b, d, rec); err != nil {
			return nil, err
		}
	}
	for d := range rewrite {
		t := present[d].ModTime().UTC()
		if err := putJSON(b, d, blobRecord{Size: present[d].Size(), Added: t, LastUsed: t}); err != nil {
			return nil, err
		}
	}
	return found, nil
}

// reconcileRecords drops package, index and layer records whose blob is
// gone or which cannot be decoded.
func reconcileRecords(tx *bbolt.Tx, present map[string]os.FileInfo, repair bool) ([]Problem, error) {
	var found []Problem
	for _, bk := range recordBuckets {
		rb := tx.Bucket(bk)
		var dead [][]byte
		err := rb.ForEach(func(k, _ []byte) error {
			var r struct{ Digest string }
			_, derr := getJSON(rb, string(k), &r)
			if _, ok := present[r.Digest]; derr != nil || !ok {
				found = append(found, Problem{Kind: ProblemDangling, Digest: r.Digest, Key: string(bk) + "/" + string(k), Repaired: repair})
				dead = append(dead, slices.Clone(k))
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		for _, k := range dead {
			if !repair {
				break
			}
			if err := rb.Delete(k); err != nil {
				return nil, err
			}
		}
	}
	return found, nil
}

// reconcileRefs reports references naming blobs that are gone. They are
// not repaired: the caller knows what the reference stands for.
func reconcileRefs(tx *bbolt.Tx, present map[string]os.FileInfo, _ bool) ([]Problem, error) {
	var found []Problem
	refs, err := readRefs(tx)
	for _, r := range refs {
		for _, d := range r.Digests {
			if _, ok := present[d]; !ok {
				found = append(found, Problem{Kind: ProblemDanglingRef, Digest: d, Key: r.Name,
					Detail: "rebuild what the reference stands for, or remove the reference"})
			}
		}
	}
	return found, err
}
