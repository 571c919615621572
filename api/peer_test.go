package api

import (
	"errors"
	"os"
	"slices"
	"testing"
)

func geteuid() int { return os.Geteuid() }

func TestPeerOf(t *testing.T) {
	srv, _ := unixPair(t)
	p, err := PeerOf(srv)
	if err != nil {
		t.Fatal(err)
	}
	if p.UID != uint32(os.Geteuid()) || p.GID != uint32(os.Getegid()) || p.PID != int32(os.Getpid()) {
		t.Errorf("peer %+v, want uid %d gid %d pid %d", p, os.Geteuid(), os.Getegid(), os.Getpid())
	}
	groups, err := os.Getgroups()
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range groups {
		if !slices.Contains(p.Groups, uint32(g)) {
			t.Errorf("peer groups %v lack %d (process groups %v)", p.Groups, g, groups)
		}
	}
}

func TestPolicy(t *testing.T) {
	tests := []struct {
		name string
		pol  Policy
		peer Peer
		ok   bool
	}{
		{"same uid", Policy{UID: 1000}, Peer{UID: 1000, GID: 1000}, true},
		{"other uid", Policy{UID: 1000}, Peer{UID: 1001, GID: 1001}, false},
		{"root is another uid", Policy{UID: 1000}, Peer{UID: 0}, false},
		{"primary group member", Policy{UID: 0, Groups: []uint32{600}}, Peer{UID: 1001, GID: 600}, true},
		{"supplementary group member", Policy{UID: 0, Groups: []uint32{600, 700}}, Peer{UID: 1001, GID: 1001, Groups: []uint32{27, 700}}, true},
		{"not a member", Policy{UID: 0, Groups: []uint32{600}}, Peer{UID: 1001, GID: 1001, Groups: []uint32{27}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.pol.Check(tt.peer)
			if (err == nil) != tt.ok {
				t.Fatalf("Check = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrNotAllowed) {
				t.Errorf("error %v does not wrap ErrNotAllowed", err)
			}
		})
	}
}

func TestPeerOfNonUnix(t *testing.T) {
	if _, err := PeerOf(nil); err == nil {
		t.Error("PeerOf(nil) succeeded")
	}
}
