package api

import (
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	pb "github.com/rootfsd/rootfsd/api/rootfsd/v1"
	"github.com/rootfsd/rootfsd/repo"
)

// FuzzBuildRequest decodes arbitrary bytes as a BuildRequest the way the
// server does; whatever arrives, decoding must not panic, and a lock that
// passes must be one ParseLock accepts and round-trip to the same digest.
func FuzzBuildRequest(f *testing.F) {
	lock := repo.NewLock(testRequest(), testPlan())
	seed, _ := proto.Marshal(buildRequestToProto(Options{Mirror: "http://127.0.0.1:1"}, BuildRequest{Request: testRequest(), Lock: lock,
		Outputs: []string{"tar:/x"}, Epoch: time.Unix(1, 0), Labels: map[string]string{"a": "b"}}))
	f.Add(seed)
	f.Add([]byte{})
	bad := LockToProto(lock)
	bad.Plan.Packages[0].Filename = "../../etc/passwd"
	seed2, _ := proto.Marshal(&pb.BuildRequest{Lock: bad})
	f.Add(seed2)
	f.Fuzz(func(t *testing.T, data []byte) {
		var m pb.BuildRequest
		if proto.Unmarshal(data, &m) != nil {
			return
		}
		r, err := buildRequestFromProto(&m)
		if err != nil || r.Lock == nil {
			return
		}
		back, err := LockFromProto(LockToProto(r.Lock))
		if err != nil {
			t.Fatalf("accepted lock does not round-trip: %v", err)
		}
		if back.Digest() != r.Lock.Digest() {
			t.Fatalf("digest changed over the wire: %s != %s", back.Digest(), r.Lock.Digest())
		}
	})
}

func TestLockFromProtoRefusesWhatReadLockRefuses(t *testing.T) {
	lock := repo.NewLock(testRequest(), testPlan())
	tests := map[string]func(m *pb.Lock){
		"path escape":   func(m *pb.Lock) { m.Plan.Packages[0].Filename = "../x.deb" },
		"bad sha256":    func(m *pb.Lock) { m.Plan.Packages[1].Sha256 = "xyz" },
		"no packages":   func(m *pb.Lock) { m.Plan.Packages = nil },
		"wrong version": func(m *pb.Lock) { m.LockVersion = 99 },
		"wrong digest":  func(m *pb.Lock) { m.Digest = "00" },
	}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			m := LockToProto(lock)
			mutate(m)
			if _, err := LockFromProto(m); err == nil {
				t.Error("accepted")
			}
		})
	}
	if _, err := LockFromProto(LockToProto(lock)); err != nil {
		t.Errorf("valid lock refused: %v", err)
	}
}
