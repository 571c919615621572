package api

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rootfsd/rootfsd/repo"
)

// grpcurl finds the grpcurl binary: $ROOTFSD_GRPCURL, the repository's
// bin/ (api/tools.sh installs the pinned version there), or $PATH.
func grpcurl(t *testing.T) string {
	if p := os.Getenv("ROOTFSD_GRPCURL"); p != "" {
		return p
	}
	if p, err := filepath.Abs("../bin/grpcurl"); err == nil {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("grpcurl"); err == nil {
		return p
	}
	t.Skip("SKIP (loud): grpcurl not installed: run sh api/tools.sh (or set ROOTFSD_GRPCURL) to check the socket with a third-party gRPC client")
	return ""
}

// A third-party gRPC client that knows nothing of rootfsd but what server
// reflection tells it lists the services and runs a streaming Build.
func TestGrpcurl(t *testing.T) {
	bin := grpcurl(t)
	lock := repo.NewLock(testRequest(), testPlan())
	f := &fake{result: &BuildResult{Lock: lock, LayerDigest: strings.Repeat("e", 64), Outputs: []string{"tar:/tmp/x.tar"}},
		events: []repo.Event{{Kind: repo.EventDownload, Name: "libc6", Current: 1, Total: 2}}, gotReq: make(chan BuildRequest, 1)}
	_, c, _ := serve(t, f, ServerOptions{})
	// grpc-go's own unix scheme: grpcurl's -unix flag dials TCP since
	// grpc-go's NewClient.
	target := "unix://" + c.Socket()
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, append([]string{"-plaintext"}, args...)...)
		var out, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("grpcurl %v: %v\n%s", args, err, stderr.String())
		}
		return out.String()
	}
	list := run(target, "list")
	for _, want := range []string{"rootfsd.v1.RootfsdService", "grpc.health.v1.Health"} {
		if !strings.Contains(list, want) {
			t.Errorf("grpcurl list:\n%s\nlacks %s", list, want)
		}
	}
	desc := run(target, "describe", "rootfsd.v1.RootfsdService.Build")
	if !strings.Contains(desc, "returns ( stream .rootfsd.v1.BuildResponse )") {
		t.Errorf("grpcurl describe Build:\n%s", desc)
	}
	out := run("-d", `{"request":{"distro":"debian:12","packages":["curl"]},"outputs":["tar:/tmp/x.tar"]}`,
		target, "rootfsd.v1.RootfsdService/Build")
	dec := json.NewDecoder(strings.NewReader(out))
	var kinds []string
	for dec.More() {
		var m map[string]json.RawMessage
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("grpcurl output: %v\n%s", err, out)
		}
		for k := range m {
			kinds = append(kinds, k)
		}
	}
	if strings.Join(kinds, ",") != "event,result" || !strings.Contains(out, `"layerDigest": "eeee`) {
		t.Errorf("grpcurl Build stream: %v\n%s", kinds, out)
	}
	if got := <-f.gotReq; got.Request.Distro != "debian:12" || got.Outputs[0] != "tar:/tmp/x.tar" {
		t.Errorf("Build as served: %+v", got)
	}
	health := run(target, "grpc.health.v1.Health/Check")
	if !strings.Contains(health, "SERVING") {
		t.Errorf("health: %s", health)
	}
}
