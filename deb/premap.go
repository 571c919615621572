package deb

import (
	"context"
	"sync"

	"github.com/rootfsd/rootfsd/repo"
)

// premap verifies and maps the Packages files a suite had last time while
// the conditional requests for its InRelease are on the wire: on a warm
// run the index is usually unchanged, so the hashing overlaps the network
// round trips instead of following them.
type premap struct {
	mu    sync.Mutex
	items map[string]*premapItem
}

type premapItem struct {
	done   chan struct{}
	data   []byte
	err    error
	mapped bool
	used   bool
}

// start begins mapping each cached Packages file suite s recorded.
func (p *premap) start(ctx context.Context, c repo.Cache, s Suite, opt FetchOptions) {
	opt.Offline = true
	opt.Reporter = nil
	si, err := FetchSuite(ctx, s, opt)
	if err != nil {
		return // nothing recorded, or no longer valid: the online fetch decides
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.items == nil {
		p.items = map[string]*premapItem{}
	}
	for _, f := range si.Files {
		if _, ok := p.items[f.Digest]; ok {
			continue
		}
		it := &premapItem{done: make(chan struct{})}
		p.items[f.Digest] = it
		go func(digest string) {
			defer close(it.done)
			it.data, it.mapped, it.err = mapBlob(ctx, c, digest)
		}(f.Digest)
	}
}

// get returns the verified file when it was started and succeeded, and
// whether it is a mapping the caller now owns.
func (p *premap) get(digest string) (data []byte, mapped, ok bool) {
	p.mu.Lock()
	it, found := p.items[digest]
	p.mu.Unlock()
	if !found {
		return nil, false, false
	}
	<-it.done
	if it.err != nil {
		return nil, false, false
	}
	p.mu.Lock()
	it.used = true
	p.mu.Unlock()
	return it.data, it.mapped, true
}

// close unmaps what was mapped but not used (the index changed upstream).
func (p *premap) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, it := range p.items {
		<-it.done
		if !it.used && it.mapped {
			unmapBlob(it.data)
		}
	}
}
