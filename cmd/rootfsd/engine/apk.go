package engine

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/rootfsd/rootfsd/apk"
	"github.com/rootfsd/rootfsd/repo"
	"github.com/rootfsd/rootfsd/repo/fstree"
	"github.com/rootfsd/rootfsd/repo/overlay"
)

// apkBackend configures the Alpine backend: the mirror (when set) is
// expanded to the release's repositories; --repository lines come with
// the request.
func (e *Engine) apkBackend(d *repo.Distro, fetcher *repo.Fetcher, rep repo.Reporter) (*apk.Backend, error) {
	st, err := e.Store()
	if err != nil {
		return nil, err
	}
	b := &apk.Backend{Cache: st, Fetcher: fetcher, Client: e.cfg.HTTP, Reporter: rep, Distro: d.Name()}
	if m := strings.TrimRight(e.cfg.Mirrors.Mirror, "/"); m != "" {
		for _, c := range []string{"main", "community"} {
			b.Repositories = append(b.Repositories, repo.Source{URL: m + "/" + d.Codename + "/" + c})
		}
	}
	if len(e.cfg.Keys) > 0 {
		b.Keys = apk.AllKeys()
		for _, k := range e.cfg.Keys {
			if err := b.Keys.AddFile(k); err != nil {
				return nil, fmt.Errorf("--keyring %s: %w", k, err)
			}
		}
	}
	return b, nil
}

// assembleAPK installs an Alpine lock into t.
func (e *Engine) assembleAPK(ctx context.Context, t *fstree.Tree, l *repo.Lock, open func(repo.Planned) (io.ReadCloser, error), req BuildRequest, epoch time.Time, rep repo.Reporter) ([]string, error) {
	world, err := apk.World(l.Request.Packages, l.Variant)
	if err != nil {
		return nil, err
	}
	var repos []string
	seen := map[string]bool{}
	for _, p := range l.Packages {
		if !seen[p.Repository] {
			seen[p.Repository] = true
			repos = append(repos, p.Repository)
		}
	}
	opt := apk.AssembleOptions{World: world, Repositories: repos, Epoch: epoch, Report: rep}
	if len(e.cfg.Keys) > 0 {
		opt.Keys = apk.AllKeys()
		for _, k := range e.cfg.Keys {
			if err := opt.Keys.AddFile(k); err != nil {
				return nil, fmt.Errorf("--keyring %s: %w", k, err)
			}
		}
	}
	res, err := apk.Assemble(ctx, t, &l.Plan, open, opt)
	if err != nil {
		return nil, err
	}
	if err := addAPKUsers(t, req.Users, epoch); err != nil {
		return nil, err
	}
	return res.Warnings, nil
}

// addAPKUsers adds the NAME[:UID] accounts (--add-user, --user, a spec's
// accounts with only a name and uid), which the Debian installer adds
// itself: a group of the same name, home /home/NAME, shell /bin/sh.
func addAPKUsers(t *fstree.Tree, users []string, epoch time.Time) error {
	ov := &overlay.Overlay{}
	for _, u := range users {
		name, id, hasID := strings.Cut(u, ":")
		uid := -1
		if hasID {
			n, err := strconv.Atoi(id)
			if err != nil || n < 0 || n >= 1<<31-1 {
				return fmt.Errorf("--user %q: the uid must be a number from 0 to 2147483646", u)
			}
			uid = n
		}
		ov.Users = append(ov.Users, overlay.User{Name: name, UID: uid})
	}
	return ov.Apply(t, overlay.Options{Epoch: epoch})
}
