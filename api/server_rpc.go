package api

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"

	"connectrpc.com/connect"

	pb "github.com/rootfsd/rootfsd/api/rootfsd/v1"
	"github.com/rootfsd/rootfsd/repo"
)

// rpc implements the generated handler interface: each method translates
// the message, calls the Service, and streams its events back.
type rpc struct{ s *Server }

// refuseNew refuses new work while the daemon drains.
func (r *rpc) refuseNew() error {
	if r.s.draining.Load() {
		return toConnect(ErrUnavailable)
	}
	return nil
}

// stream runs one streaming operation: fn does the work reporting into the
// pump, and sendResult sends the final message once every event is out.
func (r *rpc) stream(ctx context.Context, method, distro string, pkgs []string, sendEvent func(*pb.Event) error, fn func(rep repo.Reporter) (func() error, error)) error {
	if err := r.refuseNew(); err != nil {
		return err
	}
	event, end := r.s.begin(ctx, method, distro, pkgs)
	p := newPump(func(e repo.Event) error { return sendEvent(EventToProto(e)) }, event)
	sendResult, err := fn(p.report)
	perr := p.close()
	end(err)
	if err != nil {
		return toConnect(err)
	}
	if perr != nil {
		return perr
	}
	return sendResult()
}

func (r *rpc) Build(ctx context.Context, req *connect.Request[pb.BuildRequest], st *connect.ServerStream[pb.BuildResponse]) error {
	br, err := buildRequestFromProto(req.Msg)
	if err != nil {
		return connect.NewError(connect.CodeInvalidArgument, err)
	}
	distro, pkgs := br.Request.Distro, br.Request.Packages
	if br.Lock != nil {
		distro, pkgs = br.Lock.Distro, nil
		for _, p := range br.Lock.Packages {
			pkgs = append(pkgs, p.Name)
		}
	}
	send := func(e *pb.Event) error { return st.Send(&pb.BuildResponse{Msg: &pb.BuildResponse_Event{Event: e}}) }
	return r.stream(ctx, "Build", distro, pkgs, send, func(rep repo.Reporter) (func() error, error) {
		res, err := r.s.svc.Build(ctx, optionsFromProto(req.Msg.GetOptions()), br, rep)
		if err != nil {
			return nil, err
		}
		return func() error {
			return st.Send(&pb.BuildResponse{Msg: &pb.BuildResponse_Result{Result: buildResultToProto(res)}})
		}, nil
	})
}

func (r *rpc) Resolve(ctx context.Context, req *connect.Request[pb.ResolveRequest], st *connect.ServerStream[pb.ResolveResponse]) error {
	rq := RequestFromProto(req.Msg.GetRequest())
	send := func(e *pb.Event) error { return st.Send(&pb.ResolveResponse{Msg: &pb.ResolveResponse_Event{Event: e}}) }
	return r.stream(ctx, "Resolve", rq.Distro, rq.Packages, send, func(rep repo.Reporter) (func() error, error) {
		plan, err := r.s.svc.Resolve(ctx, optionsFromProto(req.Msg.GetOptions()), rq, rep)
		if err != nil {
			return nil, err
		}
		return func() error {
			return st.Send(&pb.ResolveResponse{Msg: &pb.ResolveResponse_Plan{Plan: PlanToProto(plan)}})
		}, nil
	})
}

func (r *rpc) Lock(ctx context.Context, req *connect.Request[pb.LockRequest], st *connect.ServerStream[pb.LockResponse]) error {
	rq := RequestFromProto(req.Msg.GetRequest())
	send := func(e *pb.Event) error { return st.Send(&pb.LockResponse{Msg: &pb.LockResponse_Event{Event: e}}) }
	return r.stream(ctx, "Lock", rq.Distro, rq.Packages, send, func(rep repo.Reporter) (func() error, error) {
		l, err := r.s.svc.Lock(ctx, optionsFromProto(req.Msg.GetOptions()), rq, rep)
		if err != nil {
			return nil, err
		}
		return func() error {
			return st.Send(&pb.LockResponse{Msg: &pb.LockResponse_Lock{Lock: LockToProto(l)}})
		}, nil
	})
}

func (r *rpc) Show(ctx context.Context, req *connect.Request[pb.ShowRequest], st *connect.ServerStream[pb.ShowResponse]) error {
	rq := RequestFromProto(req.Msg.GetRequest())
	send := func(e *pb.Event) error { return st.Send(&pb.ShowResponse{Msg: &pb.ShowResponse_Event{Event: e}}) }
	return r.stream(ctx, "Show", rq.Distro, []string{req.Msg.GetName()}, send, func(rep repo.Reporter) (func() error, error) {
		infos, err := r.s.svc.Show(ctx, optionsFromProto(req.Msg.GetOptions()), rq, req.Msg.GetName(), rep)
		if err != nil {
			return nil, err
		}
		return func() error {
			return st.Send(&pb.ShowResponse{Msg: &pb.ShowResponse_Result{Result: packageInfosToProto(infos)}})
		}, nil
	})
}

// unary runs a unary operation with the same bookkeeping as a stream.
func unary[T any](r *rpc, ctx context.Context, method string, fn func() (*T, error)) (*connect.Response[T], error) {
	if err := r.refuseNew(); err != nil {
		return nil, err
	}
	_, end := r.s.begin(ctx, method, "", nil)
	m, err := fn()
	end(err)
	if err != nil {
		return nil, toConnect(err)
	}
	return connect.NewResponse(m), nil
}

func (r *rpc) CacheStats(ctx context.Context, req *connect.Request[pb.CacheStatsRequest]) (*connect.Response[pb.CacheStatsResponse], error) {
	return unary(r, ctx, "CacheStats", func() (*pb.CacheStatsResponse, error) {
		u, err := r.s.svc.CacheStats(ctx, optionsFromProto(req.Msg.GetOptions()))
		if err != nil {
			return nil, err
		}
		return &pb.CacheStatsResponse{Usage: usageToProto(u)}, nil
	})
}

func (r *rpc) CacheList(ctx context.Context, req *connect.Request[pb.CacheListRequest]) (*connect.Response[pb.CacheListResponse], error) {
	return unary(r, ctx, "CacheList", func() (*pb.CacheListResponse, error) {
		bs, err := r.s.svc.CacheList(ctx, optionsFromProto(req.Msg.GetOptions()))
		if err != nil {
			return nil, err
		}
		return &pb.CacheListResponse{Blobs: blobsToProto(bs)}, nil
	})
}

func (r *rpc) CacheVerify(ctx context.Context, req *connect.Request[pb.CacheVerifyRequest]) (*connect.Response[pb.CacheVerifyResponse], error) {
	return unary(r, ctx, "CacheVerify", func() (*pb.CacheVerifyResponse, error) {
		rep, err := r.s.svc.CacheVerify(ctx, optionsFromProto(req.Msg.GetOptions()))
		if err != nil {
			return nil, err
		}
		return verifyToProto(rep), nil
	})
}

func (r *rpc) CachePrune(ctx context.Context, req *connect.Request[pb.CachePruneRequest]) (*connect.Response[pb.CachePruneResponse], error) {
	if req.Msg.GetOlderThanSeconds() < 0 || req.Msg.GetMaxBytes() < 0 {
		return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("prune: negative age or size"))
	}
	return unary(r, ctx, "CachePrune", func() (*pb.CachePruneResponse, error) {
		rep, err := r.s.svc.CachePrune(ctx, optionsFromProto(req.Msg.GetOptions()), pruneOptionsFromProto(req.Msg))
		if err != nil {
			return nil, err
		}
		return pruneToProto(rep), nil
	})
}

// Status is answered while draining too: it is how one watches a drain.
func (r *rpc) Status(ctx context.Context, _ *connect.Request[pb.StatusRequest]) (*connect.Response[pb.StatusResponse], error) {
	st, err := r.s.svc.Status(ctx)
	if err != nil {
		return nil, toConnect(err)
	}
	o := r.s.opt
	st.Daemon = Daemon{Version: o.Version, PID: os.Getpid(), UID: uint32(os.Geteuid()), Socket: o.Socket,
		CacheDir: o.CacheDir, Started: r.s.started.UTC(), RSSBytes: selfRSS(), MaxBuilds: o.MaxBuilds,
		MaxDownloads: o.MaxDownloads, Draining: r.s.draining.Load(), Requests: r.s.requests.Load()}
	if st.Daemon.CacheDir == "" && st.Cache != nil {
		st.Daemon.CacheDir = st.Cache.Dir
	}
	st.Operations = r.s.Operations()
	return connect.NewResponse(statusToProto(st)), nil
}

func (r *rpc) Health(context.Context, *connect.Request[pb.HealthRequest]) (*connect.Response[pb.HealthResponse], error) {
	s := pb.HealthResponse_SERVING_STATUS_SERVING
	if r.s.draining.Load() {
		s = pb.HealthResponse_SERVING_STATUS_NOT_SERVING
	}
	return connect.NewResponse(&pb.HealthResponse{Status: s}), nil
}

func (r *rpc) Version(context.Context, *connect.Request[pb.VersionRequest]) (*connect.Response[pb.VersionResponse], error) {
	return connect.NewResponse(&pb.VersionResponse{Version: r.s.opt.Version, GoVersion: runtime.Version(), Api: APIVersion}), nil
}

// selfRSS is this process's resident set size in bytes, 0 if unknown.
func selfRSS() int64 {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(data))
	if len(f) < 2 {
		return 0
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0
	}
	return pages * int64(os.Getpagesize())
}
