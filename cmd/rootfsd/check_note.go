package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/rootfsd/rootfsd/cmd/rootfsd/engine"
	"github.com/rootfsd/rootfsd/repo/check"
)

// checkNoteVersion versions the findings kept by the end-of-build check:
// bump it when check.Run's findings change for the same tree.
const checkNoteVersion = "rootfsd-check-note-v1"

// checkNoteKey names the findings of the end-of-build check of a build:
// they depend only on the layer, the image configuration (the image ID is
// its digest; the request's fields cover tar and dir outputs), the release
// and architecture, and the version of rootfsd that checked.
func checkNoteKey(req engine.BuildRequest, res *engine.BuildResult) string {
	if res.LayerDigest == "" || res.Lock == nil {
		return ""
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%s\nlayer=%s\nimage=%s\n%s %s\n", checkNoteVersion, version, revision(), res.LayerDigest, res.ImageID, res.Lock.Distro, res.Lock.Arch)
	cfg := check.ImageConfig{Entrypoint: req.Entrypoint, Cmd: req.Cmd, Env: req.Env, User: req.User, WorkingDir: req.WorkingDir}
	_ = json.NewEncoder(h).Encode(cfg)
	return hex.EncodeToString(h.Sum(nil))
}

// cachedFindings returns the findings an earlier check of the same layer
// and configuration kept, here or (through --cache-from) on another
// machine: reading a large output back is the costliest step of a build
// whose layer comes from a cache.
func (g *globals) cachedFindings(ctx context.Context, req engine.BuildRequest, res *engine.BuildResult) ([]check.Finding, bool) {
	key := checkNoteKey(req, res)
	if key == "" {
		return nil, false
	}
	data, ok := g.engine().LoadNote(ctx, "check", key)
	if !ok {
		return nil, false
	}
	var findings []check.Finding
	if err := json.Unmarshal(data, &findings); err != nil {
		return nil, false
	}
	return findings, true
}

// keepFindings keeps the findings for later builds, and pushes them with
// --cache-to; a failed push is a warning.
func (g *globals) keepFindings(ctx context.Context, req engine.BuildRequest, res *engine.BuildResult, findings []check.Finding) {
	key := checkNoteKey(req, res)
	if key == "" {
		return
	}
	if findings == nil {
		findings = []check.Finding{}
	}
	data, err := json.Marshal(findings)
	if err != nil {
		return
	}
	if err := g.engine().SaveNote(ctx, "check", key, data); err != nil {
		res.Warnings = append(res.Warnings, "check: findings not shared: "+err.Error())
	}
}
