package engine

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// The spool side of Share.Transport: how a download under way is handed to
// its readers, and when it stops.

func respStatus(r *http.Response) string {
	if r == nil {
		return ""
	}
	return r.Status
}

// finish records n more bytes, and the end of the body when end is not nil
// (io.EOF for a complete one), and wakes the readers.
func (f *flight) finish(n int64, end error) {
	f.mu.Lock()
	f.size += n
	if end != nil {
		f.done = true
		if end != io.EOF {
			f.bodyErr = end
		}
	}
	close(f.changed)
	f.changed = make(chan struct{})
	f.mu.Unlock()
}

// release drops one reader; the last one stops an unfinished download.
func (s *Share) release(f *flight) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f.refs--
	if f.refs > 0 {
		return
	}
	if !f.pumpDone {
		f.cancel()
		s.remove(f)
		return
	}
	s.linger(f)
	s.closeIfIdle(f)
}

// linger keeps a finished download joinable for a while. Called with mu.
func (s *Share) linger(f *flight) {
	if f.removed {
		return
	}
	if s.opt.Linger < 0 {
		s.remove(f)
		return
	}
	f.timer = time.AfterFunc(s.opt.Linger, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if f.refs == 0 {
			s.remove(f)
			s.closeIfIdle(f)
		}
	})
}

// remove makes f unjoinable. Called with mu.
func (s *Share) remove(f *flight) {
	f.removed = true
	if s.flights[f.key] == f {
		delete(s.flights, f.key)
	}
}

// closeIfIdle closes the spool once nothing can read it. Called with mu.
func (s *Share) closeIfIdle(f *flight) {
	if f.removed && f.refs == 0 && f.pumpDone && f.spool != nil {
		f.spool.Close()
		f.spool = nil
	}
}

// spoolReader is one reader's body: the spool from the start, waiting for
// more while the download goes on.
type spoolReader struct {
	s      *Share
	f      *flight
	ctx    context.Context
	off    int64
	closed sync.Once
}

func (r *spoolReader) Read(p []byte) (int, error) {
	f := r.f
	for {
		f.mu.Lock()
		size, done, berr, changed, spool := f.size, f.done, f.bodyErr, f.changed, f.spool
		f.mu.Unlock()
		if r.off < size {
			if int64(len(p)) > size-r.off {
				p = p[:size-r.off]
			}
			n, err := spool.ReadAt(p, r.off)
			r.off += int64(n)
			if n > 0 || err == nil {
				return n, nil
			}
			return 0, fmt.Errorf("share: spool: %w", err)
		}
		if done {
			if berr != nil {
				return 0, berr
			}
			return 0, io.EOF
		}
		select {
		case <-changed:
		case <-r.ctx.Done():
			return 0, r.ctx.Err()
		}
	}
}

func (r *spoolReader) Close() error {
	r.closed.Do(func() { r.s.release(r.f) })
	return nil
}
