package api

import (
	"context"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"connectrpc.com/grpcreflect"

	pb "github.com/rootfsd/rootfsd/api/rootfsd/v1"
	"github.com/rootfsd/rootfsd/api/rootfsd/v1/rootfsdv1connect"
	"github.com/rootfsd/rootfsd/repo"
)

// unixHTTP returns an HTTP client of the socket, HTTP/1.1 or h2c.
func unixHTTP(sock string, h2c bool) *http.Client {
	var p http.Protocols
	if h2c {
		p.SetUnencryptedHTTP2(true)
	} else {
		p.SetHTTP1(true)
	}
	return &http.Client{Transport: &http.Transport{Protocols: &p,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}}}
}

// The one socket speaks gRPC, gRPC-Web and Connect, and streams with each.
func TestProtocols(t *testing.T) {
	f := &fake{plan: testPlan(), events: []repo.Event{{Kind: repo.EventIndex, Name: "bookworm"}}}
	_, c, _ := serve(t, f, ServerOptions{Version: "v"})
	for _, tt := range []struct {
		name string
		h2c  bool
		opt  []connect.ClientOption
	}{
		{"grpc", true, []connect.ClientOption{connect.WithGRPC()}},
		{"grpc-web", false, []connect.ClientOption{connect.WithGRPCWeb()}},
		{"connect", false, nil},
		{"connect-json", false, []connect.ClientOption{connect.WithProtoJSON()}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			hc := unixHTTP(c.Socket(), tt.h2c)
			defer hc.CloseIdleConnections()
			cl := rootfsdv1connect.NewRootfsdServiceClient(hc, "http://rootfsd", tt.opt...)
			v, err := cl.Version(context.Background(), connect.NewRequest(&pb.VersionRequest{}))
			if err != nil || v.Msg.GetVersion() != "v" {
				t.Fatalf("Version: %v %v", v, err)
			}
			st, err := cl.Resolve(context.Background(), connect.NewRequest(&pb.ResolveRequest{Request: RequestToProto(testRequest())}))
			if err != nil {
				t.Fatal(err)
			}
			var events, plans int
			for st.Receive() {
				if st.Msg().GetPlan() != nil {
					plans++
				} else if st.Msg().GetEvent() != nil {
					events++
				}
			}
			if err := st.Err(); err != nil || plans != 1 || events != 1 {
				t.Errorf("stream: %d events, %d plans, %v", events, plans, err)
			}
		})
	}
	// A plain HTTP client posting JSON, as curl would.
	hc := unixHTTP(c.Socket(), false)
	defer hc.CloseIdleConnections()
	resp, err := hc.Post("http://rootfsd/rootfsd.v1.RootfsdService/Version", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("Connect JSON POST: %s", resp.Status)
	}
}

func TestReflectionListsServices(t *testing.T) {
	_, c, _ := serve(t, &fake{}, ServerOptions{})
	hc := unixHTTP(c.Socket(), true)
	defer hc.CloseIdleConnections()
	rc := grpcreflect.NewClient(hc, "http://rootfsd", connect.WithGRPC())
	stream := rc.NewStream(context.Background())
	defer stream.Close()
	names, err := stream.ListServices()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range names {
		got = append(got, string(n))
	}
	for _, want := range []string{"rootfsd.v1.RootfsdService", "grpc.health.v1.Health"} {
		if !slices.Contains(got, want) {
			t.Errorf("reflection lists %v, lacks %s", got, want)
		}
	}
	files, err := stream.FileContainingSymbol("rootfsd.v1.RootfsdService")
	if err != nil || len(files) == 0 || files[0].GetName() != "rootfsd/v1/rootfsd.proto" {
		t.Errorf("FileContainingSymbol: %d files, %v", len(files), err)
	}
}
