package engine

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"regexp"

	"github.com/rootfsd/rootfsd/store/remote"
)

// maxNote bounds a note read from a registry cache.
const maxNote = 4 << 20

// noteMediaType marks notes in a registry cache.
const noteMediaType = "application/vnd.rootfsd.note.v1+json"

var (
	noteNS  = regexp.MustCompile(`^[a-z][a-z0-9]{0,15}$`)
	noteKey = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// LoadNote returns a small record derived from cached content, such as
// the findings of the end-of-build check of a layer: from the local cache,
// else from the registry cache (--cache-from), which is then kept locally.
// ns is a short lower-case name, key a hex SHA256 of everything the note
// depends on. A note from a registry is as trusted as the layers there.
func (e *Engine) LoadNote(ctx context.Context, ns, key string) ([]byte, bool) {
	if !noteNS.MatchString(ns) || !noteKey.MatchString(key) {
		return nil, false
	}
	st, err := e.Store()
	if err != nil {
		return nil, false
	}
	if v, err := st.GetMetaContext(ctx, "note-"+ns, key); err == nil {
		return v, true
	}
	rc, err := e.remoteCaches()
	if err != nil || rc.from == nil {
		return nil, false
	}
	ent, r, err := rc.from.Pull(ctx, "note-"+ns+"-"+key, maxNote)
	if err != nil {
		return nil, false
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, maxNote+1))
	if err != nil || int64(len(data)) != ent.Size || ent.MediaType != noteMediaType {
		return nil, false
	}
	sum := sha256.Sum256(data)
	if "sha256:"+hex.EncodeToString(sum[:]) != ent.Digest {
		return nil, false
	}
	_ = st.SetMetaContext(ctx, "note-"+ns, key, data)
	return data, true
}

// SaveNote keeps a note in the local cache and pushes it to the registry
// cache (--cache-to); a failed push is returned for the caller to warn
// about, the note stays kept locally.
func (e *Engine) SaveNote(ctx context.Context, ns, key string, data []byte) error {
	if !noteNS.MatchString(ns) || !noteKey.MatchString(key) || len(data) > maxNote {
		return fmt.Errorf("note %s/%s: bad name or %d bytes over %d", ns, key, len(data), maxNote)
	}
	st, err := e.Store()
	if err != nil {
		return err
	}
	if err := st.SetMetaContext(ctx, "note-"+ns, key, data); err != nil {
		return err
	}
	rc, err := e.remoteCaches()
	if err != nil || rc.to == nil {
		return err
	}
	sum := sha256.Sum256(data)
	ent := remote.Entry{Digest: "sha256:" + hex.EncodeToString(sum[:]), Size: int64(len(data)), MediaType: noteMediaType}
	return rc.to.Push(ctx, "note-"+ns+"-"+key, ent, func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
}
