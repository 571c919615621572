package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/user"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/rootfsd/rootfsd/api"
	"github.com/rootfsd/rootfsd/cmd/rootfsd/engine"
	"github.com/rootfsd/rootfsd/repo"
	"github.com/rootfsd/rootfsd/store"
)

type serveFlags struct {
	groups       []string
	socketMode   string
	logFormat    string
	logLevel     string
	maxBuilds    int
	maxDownloads int
	drain        time.Duration
}

func newServeCmd(g *globals) *cobra.Command {
	var sf serveFlags
	c := &cobra.Command{
		Use:   "serve",
		Short: "Run the daemon: one cache, shared work, progress streamed to clients",
		Long: `serve runs rootfsd as a daemon on a unix socket: $XDG_RUNTIME_DIR/rootfsd/rootfsd.sock
(directory 0700), /run/rootfsd/rootfsd.sock as root, or --socket PATH. Under
systemd it takes the socket it is given (socket activation, LISTEN_FDS); units
for the user and the system manager are in contrib/systemd/.

The daemon owns the cache and shares work between clients: requests that need
the same index or package at once wait on one download. A client that goes
away cancels only its own part. Every command of the CLI uses the daemon when
it answers (--daemon auto), and runs in-process otherwise.

The API is rootfsd.v1 (api/rootfsd/v1/rootfsd.proto), served as gRPC, gRPC-Web
and Connect on the one socket, with server reflection: grpcurl -plaintext
unix://SOCKET list. Only the daemon's own uid is served, and the members of
--allow-group; each caller's credentials are read from the socket
(SO_PEERCRED). SIGTERM drains: running requests finish, or are cancelled
after --drain-timeout.`,
		Example: `  rootfsd serve
  rootfsd serve --socket /tmp/rootfsd.sock --log-format json
  rootfsd serve --allow-group rootfsd --max-builds 4      # as root, for a group`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return g.serve(c.Context(), &sf) },
	}
	f := c.Flags()
	f.StringArrayVar(&sf.groups, "allow-group", nil, "also serve the members of this group (name or gid; repeatable); the socket gets the first one's group")
	f.StringVar(&sf.socketMode, "socket-mode", "", "permission bits of the socket (default 0600, 0660 with --allow-group)")
	f.StringVar(&sf.logFormat, "log-format", "text", "log format: text or json (on stderr)")
	f.StringVar(&sf.logLevel, "log-level", "info", "log level: debug (every upstream download), info, warn, error")
	f.IntVar(&sf.maxBuilds, "max-builds", 2, "builds run at once; more wait their turn")
	f.IntVar(&sf.maxDownloads, "max-downloads", engine.DefaultMaxDownloads, "downloads under way at once, across every request")
	f.DurationVar(&sf.drain, "drain-timeout", 2*time.Minute, "on SIGTERM, how long running requests may take to finish before they are cancelled")
	return c
}

func (sf *serveFlags) logger(g *globals) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(sf.logLevel)); err != nil {
		return nil, usageError{fmt.Errorf("--log-level %q: use debug, info, warn or error", sf.logLevel)}
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch sf.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(g.stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(g.stderr, opts)), nil
	}
	return nil, usageError{fmt.Errorf("--log-format %q: use text or json", sf.logFormat)}
}

// groupIDs resolves --allow-group names and numbers.
func groupIDs(names []string) ([]uint32, error) {
	var out []uint32
	for _, n := range names {
		if id, err := strconv.ParseUint(n, 10, 32); err == nil {
			out = append(out, uint32(id))
			continue
		}
		gr, err := user.LookupGroup(n)
		if err != nil {
			return nil, usageError{fmt.Errorf("--allow-group %q: %w", n, err)}
		}
		id, err := strconv.ParseUint(gr.Gid, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("--allow-group %q: gid %q", n, gr.Gid)
		}
		out = append(out, uint32(id))
	}
	return out, nil
}

func (g *globals) serve(ctx context.Context, sf *serveFlags) error {
	log, err := sf.logger(g)
	if err != nil {
		return err
	}
	if sf.maxBuilds < 1 || sf.maxDownloads < 1 {
		return usageError{fmt.Errorf("--max-builds and --max-downloads must be at least 1")}
	}
	groups, err := groupIDs(sf.groups)
	if err != nil {
		return err
	}
	lopt := api.ListenOptions{Group: -1, Mode: 0o600}
	if len(groups) > 0 {
		lopt.Group, lopt.Mode = int(groups[0]), 0o660
	}
	if sf.socketMode != "" {
		m, err := strconv.ParseUint(sf.socketMode, 8, 32)
		if err != nil || m > 0o777 {
			return usageError{fmt.Errorf("--socket-mode %q: expected octal permission bits such as 0660", sf.socketMode)}
		}
		lopt.Mode = os.FileMode(m)
	}
	sock := g.socketPath()
	// The default directories are made private; a --socket the caller
	// chose is used as it is.
	lopt.PrivateDir = g.daemon.socket == ""
	cacheDir := g.cacheDir
	if cacheDir == "" {
		if cacheDir, err = store.DefaultDir(); err != nil {
			return err
		}
	}
	cacheDir = absPath(cacheDir)
	share := engine.NewShare(engine.ShareOptions{MaxDownloads: sf.maxDownloads, Logger: log})
	svc := &daemonService{
		base: engine.Config{CacheDir: cacheDir, Mirrors: repo.Mirrors{Mirror: g.mirror, SecurityMirror: g.security},
			Offline: g.offline, Keys: g.keys, HTTP: share.Client(&http.Client{})},
		cacheDir: cacheDir, share: share, builds: make(chan struct{}, sf.maxBuilds), engines: map[string]*engine.Engine{},
	}
	if _, err := svc.engine(api.Options{}); err != nil {
		return err
	}
	if _, err := svc.defaultEngine().Store(); err != nil {
		return err
	}
	ln, activated, err := api.Listen(sock, lopt)
	if err != nil {
		return err
	}
	defer ln.Close()
	if activated {
		sock = ln.Addr().String()
	}
	srv := api.NewServer(svc, api.ServerOptions{Version: version, Socket: sock, CacheDir: cacheDir,
		MaxBuilds: sf.maxBuilds, MaxDownloads: sf.maxDownloads, Logger: log,
		Policy: api.Policy{UID: uint32(os.Geteuid()), Groups: groups}})
	log.Info("starting", "cache", cacheDir, "socket_activated", activated, "allow_groups", groups)
	return srv.Serve(ctx, ln, sf.drain)
}
