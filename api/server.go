package api

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"
	"connectrpc.com/grpcreflect"

	"github.com/rootfsd/rootfsd/api/rootfsd/v1/rootfsdv1connect"
)

// APIVersion names the protobuf package served.
const APIVersion = "rootfsd.v1"

// MaxMessageBytes bounds a request message (a lock of 64 MiB fits).
const MaxMessageBytes = 80 << 20

// ServerOptions configure a Server.
type ServerOptions struct {
	// Version is the daemon's version, answered by Version and Status.
	Version string
	// Socket and CacheDir are shown by Status.
	Socket   string
	CacheDir string
	// MaxBuilds and MaxDownloads are shown by Status.
	MaxBuilds, MaxDownloads int
	// Policy decides which peers are served. The zero value serves uid 0
	// only: set UID to the daemon's own.
	Policy Policy
	// Logger receives one line per request (slog.Default when nil).
	Logger *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Server serves a Service as rootfsd.v1 over gRPC, gRPC-Web and Connect,
// with reflection and grpc.health.v1. It tracks the operations under way
// for Status and drains on Serve's context.
type Server struct {
	svc     Service
	opt     ServerOptions
	log     *slog.Logger
	started time.Time
	health  *grpchealth.StaticChecker

	requests atomic.Int64
	draining atomic.Bool

	mu     sync.Mutex
	ops    map[string]*Operation
	nextID int64
}

// NewServer returns a server of svc.
func NewServer(svc Service, opt ServerOptions) *Server {
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	s := &Server{svc: svc, opt: opt, log: opt.Logger, started: opt.Now(), ops: map[string]*Operation{},
		health: grpchealth.NewStaticChecker(rootfsdv1connect.RootfsdServiceName)}
	return s
}

// Handler returns the HTTP handler of every service, behind the peer
// credential check. It must be served with ConnContext on a unix socket.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	opts := []connect.HandlerOption{connect.WithReadMaxBytes(MaxMessageBytes)}
	mux.Handle(rootfsdv1connect.NewRootfsdServiceHandler(&rpc{s: s}, opts...))
	reflector := grpcreflect.NewStaticReflector(rootfsdv1connect.RootfsdServiceName, grpchealth.HealthV1ServiceName)
	mux.Handle(grpcreflect.NewHandlerV1(reflector, opts...))
	mux.Handle(grpcreflect.NewHandlerV1Alpha(reflector, opts...))
	mux.Handle(grpchealth.NewHandler(s.health, opts...))
	errw := connect.NewErrorWriter(opts...)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		peer, ok := PeerFrom(r.Context())
		err := fmt.Errorf("%w: peer credentials unknown", ErrNotAllowed)
		if ok {
			err = s.opt.Policy.Check(peer)
		}
		if err != nil {
			s.log.Warn("refused", "path", r.URL.Path, "uid", peer.UID, "pid", peer.PID, "err", err)
			if errw.IsSupported(r) {
				_ = errw.Write(w, r, connect.NewError(connect.CodePermissionDenied, err))
			} else {
				http.Error(w, err.Error(), http.StatusForbidden)
			}
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// Serve serves ln until ctx ends, then drains: it stops accepting, answers
// NOT_SERVING to health checks, and lets the requests under way finish for
// up to drain; requests still running then are cancelled, and given a few
// seconds to return. A clean drain returns nil.
func (s *Server) Serve(ctx context.Context, ln net.Listener, drain time.Duration) error {
	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	srv := &http.Server{
		Handler:           s.Handler(),
		Protocols:         &protocols,
		ConnContext:       ConnContext,
		BaseContext:       func(net.Listener) context.Context { return work },
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.log.Info("serving", "socket", ln.Addr().String(), "api", APIVersion, "version", s.opt.Version, "pid", os.Getpid())
	select {
	case err := <-errc:
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	s.draining.Store(true)
	s.health.SetStatus(rootfsdv1connect.RootfsdServiceName, grpchealth.StatusNotServing)
	s.health.SetStatus("", grpchealth.StatusNotServing)
	s.log.Info("draining", "running", len(s.Operations()), "timeout", drain)
	dctx, cancel := context.WithTimeout(context.Background(), drain)
	err := srv.Shutdown(dctx)
	cancel()
	if err == nil {
		s.log.Info("drained")
		return nil
	}
	s.log.Warn("drain timeout: cancelling running requests", "running", len(s.Operations()))
	cancelWork()
	gctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(gctx); err != nil {
		srv.Close()
		return fmt.Errorf("drain: requests did not end after cancellation: %w", err)
	}
	s.log.Info("drained after cancelling")
	return nil
}

// Draining reports whether Serve is shutting down.
func (s *Server) Draining() bool { return s.draining.Load() }

// Operations lists the requests under way, oldest first.
func (s *Server) Operations() []Operation {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Operation, 0, len(s.ops))
	for _, o := range s.ops {
		out = append(out, *o)
	}
	slices.SortFunc(out, func(a, b Operation) int {
		if c := a.Started.Compare(b.Started); c != 0 {
			return c
		}
		x, _ := strconv.Atoi(a.ID)
		y, _ := strconv.Atoi(b.ID)
		return cmp.Compare(x, y)
	})
	return out
}

// begin registers an operation; the returned functions record its events
// and end it, logging the outcome.
func (s *Server) begin(ctx context.Context, method, distro string, pkgs []string) (func(kind, msg string), func(error)) {
	peer, _ := PeerFrom(ctx)
	s.requests.Add(1)
	s.mu.Lock()
	s.nextID++
	id := strconv.FormatInt(s.nextID, 10)
	op := &Operation{ID: id, Method: method, Distro: distro, Packages: pkgs, ClientUID: peer.UID,
		ClientPID: int(peer.PID), Started: s.opt.Now().UTC()}
	s.ops[id] = op
	s.mu.Unlock()
	t0 := time.Now()
	s.log.Info("request", "op", id, "method", method, "distro", distro, "packages", strings.Join(pkgs, ","), "uid", peer.UID, "pid", peer.PID)
	event := func(kind, msg string) {
		s.mu.Lock()
		op.Phase = kind
		if msg != "" {
			op.LastMessage = msg
		}
		s.mu.Unlock()
	}
	end := func(err error) {
		s.mu.Lock()
		delete(s.ops, id)
		s.mu.Unlock()
		attrs := []any{"op", id, "method", method, "duration", time.Since(t0).Round(time.Millisecond)}
		switch {
		case err == nil:
			s.log.Info("done", attrs...)
		case errors.Is(err, context.Canceled):
			s.log.Info("cancelled", attrs...)
		default:
			s.log.Warn("failed", append(attrs, "err", err)...)
		}
	}
	return event, end
}
