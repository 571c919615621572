package api

import (
	"sync"

	"github.com/rootfsd/rootfsd/repo"
)

// maxQueued bounds the events waiting for a slow client. Past it, byte
// progress of downloads is dropped (a later one says more); every other
// event is kept.
const maxQueued = 4096

// pump moves events from the service's goroutines to the one goroutine
// that may send on a stream, so that a Reporter never blocks on a slow
// client.
type pump struct {
	send    func(repo.Event) error
	observe func(kind, msg string)

	mu     sync.Mutex
	q      []repo.Event
	closed bool
	err    error // the first send error; later events are dropped
	wake   chan struct{}
	done   chan struct{}
}

func newPump(send func(repo.Event) error, observe func(kind, msg string)) *pump {
	p := &pump{send: send, observe: observe, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go p.run()
	return p
}

// report is the Reporter handed to the service.
func (p *pump) report(e repo.Event) {
	if p.observe != nil {
		p.observe(string(e.Kind), e.Message)
	}
	p.mu.Lock()
	if p.closed || p.err != nil || len(p.q) >= maxQueued && progressOnly(e) {
		p.mu.Unlock()
		return
	}
	p.q = append(p.q, e)
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

func progressOnly(e repo.Event) bool {
	return (e.Kind == repo.EventDownload || e.Kind == repo.EventIndex) && e.Total > 0 && e.Current < e.Total
}

func (p *pump) run() {
	defer close(p.done)
	for {
		p.mu.Lock()
		batch := p.q
		p.q = nil
		closed := p.closed
		p.mu.Unlock()
		for _, e := range batch {
			if err := p.send(e); err != nil {
				p.mu.Lock()
				p.err = err
				p.q = nil
				p.mu.Unlock()
				return
			}
		}
		if closed && len(batch) == 0 {
			return
		}
		if len(batch) == 0 {
			<-p.wake
		}
	}
}

// close sends what is queued and returns the first send error.
func (p *pump) close() error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
	<-p.done
	return p.err
}
