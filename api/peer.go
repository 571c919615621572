package api

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"slices"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Peer is the process at the other end of a unix socket connection, as the
// kernel saw it when it connected (SO_PEERCRED, SO_PEERGROUPS).
type Peer struct {
	PID    int32
	UID    uint32
	GID    uint32
	Groups []uint32 // supplementary groups
}

type peerKey struct{}

// ConnContext records the peer's credentials in the connection's context;
// it is an http.Server ConnContext. A connection whose credentials cannot
// be read carries none, and Policy refuses it.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	p, err := PeerOf(c)
	if err != nil {
		return ctx
	}
	return context.WithValue(ctx, peerKey{}, p)
}

// PeerFrom returns the peer recorded by ConnContext.
func PeerFrom(ctx context.Context) (Peer, bool) {
	p, ok := ctx.Value(peerKey{}).(Peer)
	return p, ok
}

// soPeerGroups is SO_PEERGROUPS (Linux 4.13), the same on every
// architecture Go supports but mips, sparc and parisc.
const soPeerGroups = 59

// maxPeerGroups bounds the supplementary groups read (NGROUPS_MAX).
const maxPeerGroups = 65536

// PeerOf reads the credentials of the process that connected c.
func PeerOf(c net.Conn) (Peer, error) {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return Peer{}, fmt.Errorf("peer credentials: %T is not a unix socket", c)
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return Peer{}, fmt.Errorf("peer credentials: %w", err)
	}
	var (
		p    Peer
		serr error
	)
	cerr := raw.Control(func(fd uintptr) {
		var cred *unix.Ucred
		cred, serr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
		if serr != nil {
			serr = fmt.Errorf("SO_PEERCRED: %w", serr)
			return
		}
		p = Peer{PID: cred.Pid, UID: cred.Uid, GID: cred.Gid}
		p.Groups, serr = peerGroups(int(fd))
	})
	if cerr != nil {
		return Peer{}, fmt.Errorf("peer credentials: %w", cerr)
	}
	if serr != nil {
		return Peer{}, fmt.Errorf("peer credentials: %w", serr)
	}
	return p, nil
}

// peerGroups reads SO_PEERGROUPS, growing the buffer as the kernel asks.
func peerGroups(fd int) ([]uint32, error) {
	buf := make([]byte, 64*4)
	for {
		n := uint32(len(buf))
		_, _, e := syscall.Syscall6(syscall.SYS_GETSOCKOPT, uintptr(fd), unix.SOL_SOCKET, soPeerGroups,
			uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&n)), 0)
		switch {
		case e == syscall.ERANGE && int(n) > len(buf) && n <= maxPeerGroups*4:
			buf = make([]byte, n)
			continue
		case e != 0:
			return nil, fmt.Errorf("SO_PEERGROUPS: %w", e)
		}
		groups := make([]uint32, 0, n/4)
		for i := 0; i+4 <= int(n); i += 4 {
			groups = append(groups, binary.NativeEndian.Uint32(buf[i:]))
		}
		return groups, nil
	}
}

// Policy says who may use the daemon: its own uid, and members of Groups
// (by primary or supplementary group).
type Policy struct {
	UID    uint32
	Groups []uint32
}

// ErrNotAllowed is a caller the policy refuses.
var ErrNotAllowed = errors.New("not allowed")

// Check allows p or says why not.
func (pol Policy) Check(p Peer) error {
	if p.UID == pol.UID {
		return nil
	}
	for _, g := range pol.Groups {
		if p.GID == g || slices.Contains(p.Groups, g) {
			return nil
		}
	}
	if len(pol.Groups) == 0 {
		return fmt.Errorf("uid %d: %w: this daemon serves uid %d only (start it with --allow-group to share it)", p.UID, ErrNotAllowed, pol.UID)
	}
	return fmt.Errorf("uid %d: %w: this daemon serves uid %d and the members of groups %v", p.UID, ErrNotAllowed, pol.UID, pol.Groups)
}
