// Package store is rootfsd's content-addressed cache: verified package
// files, index snapshots and layers kept as blobs under blobs/sha256/<hex>,
// with their metadata (size, kind, last use, which lock or image refers to
// them) in a bbolt database beside them. It implements repo.Cache and knows
// nothing of any package format: callers label blobs with free-form kinds
// and keep their own records keyed as they like.
//
// Several processes, and hosts sharing the directory over NFS, may use one
// store at the same time. Blobs are written to tmp/, hashed while written,
// fsynced and renamed into place, so a blob is either absent or complete;
// readers re-hash as they read and quarantine a blob that no longer matches.
// The metadata database is never held open for a process lifetime: every
// transaction takes a flock on meta.lock (shared to read, exclusive to
// write), opens meta.db, commits and closes it again, so concurrent
// processes wait their turn instead of failing, and a process killed at any
// point leaves state that Verify detects and repairs. Opening the database
// only after taking the lock is also what makes NFS workable: every
// transaction sees the file as the last writer closed it (the server must
// support locking). Lock gives callers the same cross-process exclusion for
// their own expensive steps.
package store
