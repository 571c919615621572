package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/pflag"

	"github.com/rootfsd/rootfsd/api"
	"github.com/rootfsd/rootfsd/cmd/rootfsd/engine"
	"github.com/rootfsd/rootfsd/repo"
)

// service is what the commands run: the engine in-process, or the daemon
// through api.Client. Both print the same, from the same types.
type service interface {
	Resolve(ctx context.Context, req repo.Request, rep repo.Reporter) (*repo.Plan, error)
	Lock(ctx context.Context, req repo.Request, rep repo.Reporter) (*repo.Lock, error)
	Show(ctx context.Context, req repo.Request, name string, rep repo.Reporter) ([]repo.PackageInfo, error)
	Build(ctx context.Context, req engine.BuildRequest, rep repo.Reporter) (*engine.BuildResult, error)
}

var _ service = (*engine.Engine)(nil)

// daemonFlags choose where commands run.
type daemonFlags struct {
	mode   string // auto, always, never
	socket string
}

func (g *globals) addDaemonFlags(pf *pflag.FlagSet) {
	pf.StringVar(&g.daemon.mode, "daemon", envOr("ROOTFSD_DAEMON", "auto"), "where to run: auto (the daemon when one answers on the socket, else in-process), always (fail without a daemon), never (env ROOTFSD_DAEMON)")
	pf.StringVar(&g.daemon.socket, "socket", os.Getenv("ROOTFSD_SOCKET"), "the daemon's socket (env ROOTFSD_SOCKET; default $XDG_RUNTIME_DIR/rootfsd/rootfsd.sock, /run/rootfsd/rootfsd.sock as root)")
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// socketPath is where the daemon listens.
func (g *globals) socketPath() string {
	if g.daemon.socket != "" {
		return g.daemon.socket
	}
	return api.DefaultSocket(os.Geteuid(), os.Getenv)
}

// answers reports whether something accepts connections on sock.
func answers(sock string) bool {
	c, err := net.DialTimeout("unix", sock, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// client returns a client of the daemon when the mode allows and one
// answers; nil means run in-process.
func (g *globals) client() (*api.Client, error) {
	switch g.daemon.mode {
	case "never":
		return nil, nil
	case "auto", "always":
	default:
		return nil, usageError{fmt.Errorf("--daemon %q: use auto, always or never", g.daemon.mode)}
	}
	sock := g.socketPath()
	if answers(sock) {
		c := api.Dial(sock)
		g.dialed = append(g.dialed, c)
		return c, nil
	}
	if g.daemon.mode == "always" {
		return nil, fmt.Errorf("no daemon answers on %s: start one with \"rootfsd serve\", or use --daemon auto", sock)
	}
	return nil, nil
}

// service returns where this command's work runs.
func (g *globals) service() service {
	c, err := g.client()
	switch {
	case err != nil:
		return failing{err}
	case c == nil || g.remote.set():
		return g.engine() // the daemon does not take registry caches
	}
	r := &remote{c: c, opt: g.apiOptions()}
	if g.daemon.mode == "always" {
		return r
	}
	return &auto{r: r, local: func() service { return g.engine() }}
}

// apiOptions are the flags that change a request, for the daemon.
func (g *globals) apiOptions() api.Options {
	o := api.Options{Mirror: g.mirror, SecurityMirror: g.security, Offline: g.offline}
	if g.cacheDir != "" {
		o.CacheDir = absPath(g.cacheDir)
	}
	for _, k := range g.keys {
		o.Keys = append(o.Keys, absPath(k))
	}
	return o
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// failing answers every call with err (a --daemon mode that cannot be met).
type failing struct{ err error }

func (f failing) Resolve(context.Context, repo.Request, repo.Reporter) (*repo.Plan, error) {
	return nil, f.err
}
func (f failing) Lock(context.Context, repo.Request, repo.Reporter) (*repo.Lock, error) {
	return nil, f.err
}
func (f failing) Show(context.Context, repo.Request, string, repo.Reporter) ([]repo.PackageInfo, error) {
	return nil, f.err
}
func (f failing) Build(context.Context, engine.BuildRequest, repo.Reporter) (*engine.BuildResult, error) {
	return nil, f.err
}

// auto runs on the daemon, and in-process when the daemon did not take the
// work: it serves another cache, or went away before answering anything.
type auto struct {
	r     *remote
	local func() service
}

// fallback reports whether err means the daemon did not run the request.
func fallback(err error, heard bool) bool {
	return errors.Is(err, api.ErrOtherCache) || errors.Is(err, api.ErrRunLocally) || errors.Is(err, api.ErrUnavailable) && !heard
}

// watch wraps rep to note whether the daemon said anything.
func watch(rep repo.Reporter) (repo.Reporter, *atomic.Bool) {
	heard := new(atomic.Bool)
	return func(e repo.Event) { heard.Store(true); rep.Report(e) }, heard
}

func (a *auto) Resolve(ctx context.Context, req repo.Request, rep repo.Reporter) (*repo.Plan, error) {
	w, heard := watch(rep)
	p, err := a.r.Resolve(ctx, req, w)
	if fallback(err, heard.Load()) {
		return a.local().Resolve(ctx, req, rep)
	}
	return p, err
}

func (a *auto) Lock(ctx context.Context, req repo.Request, rep repo.Reporter) (*repo.Lock, error) {
	w, heard := watch(rep)
	l, err := a.r.Lock(ctx, req, w)
	if fallback(err, heard.Load()) {
		return a.local().Lock(ctx, req, rep)
	}
	return l, err
}

func (a *auto) Show(ctx context.Context, req repo.Request, name string, rep repo.Reporter) ([]repo.PackageInfo, error) {
	w, heard := watch(rep)
	infos, err := a.r.Show(ctx, req, name, w)
	if fallback(err, heard.Load()) {
		return a.local().Show(ctx, req, name, rep)
	}
	return infos, err
}

func (a *auto) Build(ctx context.Context, req engine.BuildRequest, rep repo.Reporter) (*engine.BuildResult, error) {
	// The API does not carry local files: a build that adds them runs here;
	// so does an unprivileged commit into the user's own containers-storage,
	// which needs this process's user namespace.
	if !req.Overlay.Empty() || needsStorage(req) && rootless() {
		return a.local().Build(ctx, req, rep)
	}
	w, heard := watch(rep)
	res, err := a.r.Build(ctx, req, w)
	if fallback(err, heard.Load()) {
		return a.local().Build(ctx, req, rep)
	}
	return res, err
}

// remote runs on the daemon.
type remote struct {
	c   *api.Client
	opt api.Options
}

func (r *remote) Resolve(ctx context.Context, req repo.Request, rep repo.Reporter) (*repo.Plan, error) {
	return r.c.Resolve(ctx, r.opt, absSources(req), rep)
}

func (r *remote) Lock(ctx context.Context, req repo.Request, rep repo.Reporter) (*repo.Lock, error) {
	return r.c.Lock(ctx, r.opt, absSources(req), rep)
}

func (r *remote) Show(ctx context.Context, req repo.Request, name string, rep repo.Reporter) ([]repo.PackageInfo, error) {
	return r.c.Show(ctx, r.opt, absSources(req), name, rep)
}

func (r *remote) Build(ctx context.Context, req engine.BuildRequest, rep repo.Reporter) (*engine.BuildResult, error) {
	if !req.Overlay.Empty() {
		return nil, fmt.Errorf("the daemon cannot add local files, paths or accounts (spec files:, --add): run with --daemon auto or never")
	}
	ar := buildToAPI(req)
	ar.Request = absSources(ar.Request)
	for i := range ar.Platforms {
		ar.Platforms[i].Request = absSources(ar.Platforms[i].Request)
	}
	for i, o := range ar.Outputs {
		ar.Outputs[i] = absOutput(o)
	}
	res, err := r.c.Build(ctx, r.opt, ar, rep)
	if err != nil {
		return nil, err
	}
	return resultFromAPI(res), nil
}

// absSources makes key files absolute: the daemon reads them from its own
// working directory.
func absSources(req repo.Request) repo.Request {
	if len(req.Sources) == 0 {
		return req
	}
	srcs := append([]repo.Source(nil), req.Sources...)
	for i, s := range srcs {
		if s.SignedBy != "" && !strings.Contains(s.SignedBy, "BEGIN PGP") {
			srcs[i].SignedBy = absPath(s.SignedBy)
		}
	}
	req.Sources = srcs
	return req
}

// absOutput makes the path of a file or directory output absolute.
func absOutput(o string) string {
	k, v, ok := strings.Cut(o, ":")
	switch {
	case !ok || strings.HasPrefix(o, "docker://") || v == "":
		return o
	case k == "tar" || k == "dir" || k == "oci" || k == "oci-archive" || k == "docker-archive":
		return k + ":" + absPath(v)
	}
	return o
}

// Conversions between the engine's build types and the API's, which
// mirror them field for field.

func buildToAPI(r engine.BuildRequest) api.BuildRequest {
	out := api.BuildRequest{Request: r.Request, Lock: r.Lock, Outputs: append([]string(nil), r.Outputs...), Tag: r.Tag, Trim: r.Trim,
		Scripts: r.Scripts, Users: r.Users, Epoch: r.Epoch, Env: r.Env, Cmd: r.Cmd, Entrypoint: r.Entrypoint,
		WorkingDir: r.WorkingDir, User: r.User, Labels: r.Labels, Annotations: r.Annotations, Layering: r.Layering}
	for _, p := range r.Platforms {
		out.Platforms = append(out.Platforms, api.Platform{Request: p.Request, Lock: p.Lock})
	}
	return out
}

func buildFromAPI(r api.BuildRequest) engine.BuildRequest {
	out := engine.BuildRequest{Request: r.Request, Lock: r.Lock, Outputs: r.Outputs, Tag: r.Tag, Trim: r.Trim,
		Scripts: r.Scripts, Users: r.Users, Epoch: r.Epoch, Env: r.Env, Cmd: r.Cmd, Entrypoint: r.Entrypoint,
		WorkingDir: r.WorkingDir, User: r.User, Labels: r.Labels, Annotations: r.Annotations, Layering: r.Layering}
	for _, p := range r.Platforms {
		out.Platforms = append(out.Platforms, engine.Platform{Request: p.Request, Lock: p.Lock})
	}
	return out
}

func resultToAPI(r *engine.BuildResult) *api.BuildResult {
	if r == nil {
		return nil
	}
	out := &api.BuildResult{Lock: r.Lock, LayerDigest: r.LayerDigest, LayerSize: r.LayerSize, ImageID: r.ImageID,
		ManifestDigest: r.ManifestDigest, Outputs: r.Outputs, SBOM: r.SBOM, Warnings: r.Warnings, Cached: r.Cached}
	for _, l := range r.Layers {
		out.Layers = append(out.Layers, api.BuildLayer{Digest: l.Digest, Size: l.Size, Packages: l.Packages})
	}
	for _, p := range r.Platforms {
		out.Platforms = append(out.Platforms, resultToAPI(p))
	}
	return out
}

func resultFromAPI(r *api.BuildResult) *engine.BuildResult {
	if r == nil {
		return nil
	}
	out := &engine.BuildResult{Lock: r.Lock, LayerDigest: r.LayerDigest, LayerSize: r.LayerSize, ImageID: r.ImageID,
		ManifestDigest: r.ManifestDigest, Outputs: r.Outputs, SBOM: r.SBOM, Warnings: r.Warnings, Cached: r.Cached}
	for _, l := range r.Layers {
		out.Layers = append(out.Layers, engine.ImageLayer{Digest: l.Digest, Size: l.Size, Packages: l.Packages})
	}
	for _, p := range r.Platforms {
		out.Platforms = append(out.Platforms, resultFromAPI(p))
	}
	return out
}

// jsonEvents writes every event as one JSON line on stderr: what
// --format json streams while the result goes to stdout.
func (g *globals) jsonEvents() repo.Reporter {
	var mu sync.Mutex
	enc := json.NewEncoder(g.stderr)
	return func(e repo.Event) {
		mu.Lock()
		defer mu.Unlock()
		_ = enc.Encode(struct {
			Event repo.Event `json:"event"`
		}{e})
	}
}
