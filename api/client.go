package api

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"time"

	"connectrpc.com/connect"

	pb "github.com/rootfsd/rootfsd/api/rootfsd/v1"
	"github.com/rootfsd/rootfsd/api/rootfsd/v1/rootfsdv1connect"
	"github.com/rootfsd/rootfsd/repo"
)

// Client talks to a daemon on a unix socket with the gRPC protocol. It
// implements Service, so that callers print the same whether the work runs
// there or in-process. Dial does no I/O; the first call connects.
type Client struct {
	socket string
	hc     *http.Client
	c      rootfsdv1connect.RootfsdServiceClient
}

var _ Service = (*Client)(nil)

// Dial returns a client of the daemon listening on socket.
func Dial(socket string) *Client {
	var protocols http.Protocols
	protocols.SetUnencryptedHTTP2(true)
	tr := &http.Transport{
		Protocols: &protocols,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		},
		DialTLSContext: func(context.Context, string, string) (net.Conn, error) {
			return nil, errors.New("no TLS on a unix socket")
		},
		TLSClientConfig: &tls.Config{},
		IdleConnTimeout: 30 * time.Second,
	}
	hc := &http.Client{Transport: tr}
	return &Client{socket: socket, hc: hc, c: rootfsdv1connect.NewRootfsdServiceClient(hc, "http://rootfsd",
		connect.WithGRPC(), connect.WithReadMaxBytes(MaxMessageBytes))}
}

// Socket is the socket the client talks to.
func (c *Client) Socket() string { return c.socket }

// Close drops idle connections.
func (c *Client) Close() error {
	c.hc.CloseIdleConnections()
	return nil
}

// Health reports whether the daemon answers and accepts work.
func (c *Client) Health(ctx context.Context) (bool, error) {
	res, err := c.c.Health(ctx, connect.NewRequest(&pb.HealthRequest{}))
	if err != nil {
		return false, fromConnect(err)
	}
	return res.Msg.GetStatus() == pb.HealthResponse_SERVING_STATUS_SERVING, nil
}

// Version returns the daemon's version and API.
func (c *Client) Version(ctx context.Context) (version, api string, err error) {
	res, err := c.c.Version(ctx, connect.NewRequest(&pb.VersionRequest{}))
	if err != nil {
		return "", "", fromConnect(err)
	}
	return res.Msg.GetVersion(), res.Msg.GetApi(), nil
}

// receive reads a server stream: events go to rep, the result message to
// onResult. A stream that ends without a result is ErrNoResult.
func receive[T any](s *connect.ServerStreamForClient[T], err error, rep repo.Reporter, split func(*T) (*pb.Event, bool)) error {
	if err != nil {
		return fromConnect(err)
	}
	defer s.Close()
	got := false
	for s.Receive() {
		ev, isResult := split(s.Msg())
		switch {
		case isResult:
			got = true
		case ev != nil:
			rep.Report(EventFromProto(ev))
		}
	}
	if err := s.Err(); err != nil {
		return fromConnect(err)
	}
	if !got {
		return ErrNoResult
	}
	return nil
}

func (c *Client) Build(ctx context.Context, opt Options, req BuildRequest, rep repo.Reporter) (*BuildResult, error) {
	s, err := c.c.Build(ctx, connect.NewRequest(buildRequestToProto(opt, req)))
	var res *pb.BuildResult
	err = receive(s, err, rep, func(m *pb.BuildResponse) (*pb.Event, bool) {
		if r := m.GetResult(); r != nil {
			res = r
			return nil, true
		}
		return m.GetEvent(), false
	})
	if err != nil {
		return nil, err
	}
	return buildResultFromProto(res)
}

func (c *Client) Resolve(ctx context.Context, opt Options, req repo.Request, rep repo.Reporter) (*repo.Plan, error) {
	s, err := c.c.Resolve(ctx, connect.NewRequest(&pb.ResolveRequest{Options: optionsToProto(opt), Request: RequestToProto(req)}))
	var plan *pb.Plan
	err = receive(s, err, rep, func(m *pb.ResolveResponse) (*pb.Event, bool) {
		if p := m.GetPlan(); p != nil {
			plan = p
			return nil, true
		}
		return m.GetEvent(), false
	})
	if err != nil {
		return nil, err
	}
	return PlanFromProto(plan), nil
}

func (c *Client) Lock(ctx context.Context, opt Options, req repo.Request, rep repo.Reporter) (*repo.Lock, error) {
	s, err := c.c.Lock(ctx, connect.NewRequest(&pb.LockRequest{Options: optionsToProto(opt), Request: RequestToProto(req)}))
	var l *pb.Lock
	err = receive(s, err, rep, func(m *pb.LockResponse) (*pb.Event, bool) {
		if x := m.GetLock(); x != nil {
			l = x
			return nil, true
		}
		return m.GetEvent(), false
	})
	if err != nil {
		return nil, err
	}
	return LockFromProto(l)
}

func (c *Client) Show(ctx context.Context, opt Options, req repo.Request, name string, rep repo.Reporter) ([]repo.PackageInfo, error) {
	s, err := c.c.Show(ctx, connect.NewRequest(&pb.ShowRequest{Options: optionsToProto(opt), Request: RequestToProto(req), Name: name}))
	var infos *pb.PackageInfos
	err = receive(s, err, rep, func(m *pb.ShowResponse) (*pb.Event, bool) {
		if x := m.GetResult(); x != nil {
			infos = x
			return nil, true
		}
		return m.GetEvent(), false
	})
	if err != nil {
		return nil, err
	}
	return packageInfosFromProto(infos), nil
}

func (c *Client) CacheStats(ctx context.Context, opt Options) (*CacheUsage, error) {
	res, err := c.c.CacheStats(ctx, connect.NewRequest(&pb.CacheStatsRequest{Options: optionsToProto(opt)}))
	if err != nil {
		return nil, fromConnect(err)
	}
	return usageFromProto(res.Msg.GetUsage()), nil
}

func (c *Client) CacheList(ctx context.Context, opt Options) ([]Blob, error) {
	res, err := c.c.CacheList(ctx, connect.NewRequest(&pb.CacheListRequest{Options: optionsToProto(opt)}))
	if err != nil {
		return nil, fromConnect(err)
	}
	return blobsFromProto(res.Msg.GetBlobs()), nil
}

func (c *Client) CacheVerify(ctx context.Context, opt Options) (*VerifyReport, error) {
	res, err := c.c.CacheVerify(ctx, connect.NewRequest(&pb.CacheVerifyRequest{Options: optionsToProto(opt)}))
	if err != nil {
		return nil, fromConnect(err)
	}
	return verifyFromProto(res.Msg), nil
}

func (c *Client) CachePrune(ctx context.Context, opt Options, p PruneOptions) (*PruneReport, error) {
	res, err := c.c.CachePrune(ctx, connect.NewRequest(&pb.CachePruneRequest{Options: optionsToProto(opt),
		OlderThanSeconds: int64(p.OlderThan / time.Second), KeepReferenced: p.KeepReferenced, MaxBytes: p.MaxBytes,
		All: p.All, DryRun: p.DryRun}))
	if err != nil {
		return nil, fromConnect(err)
	}
	return pruneFromProto(res.Msg), nil
}

func (c *Client) Status(ctx context.Context) (*Status, error) {
	res, err := c.c.Status(ctx, connect.NewRequest(&pb.StatusRequest{}))
	if err != nil {
		return nil, fromConnect(err)
	}
	return statusFromProto(res.Msg), nil
}
