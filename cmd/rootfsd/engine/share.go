package engine

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/rootfsd/rootfsd/repo"
	"github.com/rootfsd/rootfsd/store"
)

// Share makes concurrent requests that need the same work wait on one run
// of it instead of repeating it: the same download (Transport), the same
// package fetch (Fetcher), the same layer build (Do). The work runs on its
// own context, detached from whoever started it, and is cancelled only when
// every request waiting on it has gone: a client that disconnects cancels
// its own part, never the others'.
//
// A nil *Share shares nothing: Do runs fn directly, Transport and Fetcher
// return what they are given. A Share is safe for concurrent use.
type Share struct {
	opt ShareOptions
	sem chan struct{} // upstream downloads under way

	mu      sync.Mutex
	calls   map[string]*call
	flights map[string]*flight
	stats   ShareStats
}

// ShareOptions tune a Share. The zero value selects every default.
type ShareOptions struct {
	// MaxDownloads bounds the downloads under way at once across every
	// request (DefaultMaxDownloads when zero).
	MaxDownloads int
	// SpoolDir holds the unlinked files shared downloads are kept in while
	// readers catch up (os.TempDir() when empty).
	SpoolDir string
	// Linger is how long a finished download still answers an identical
	// request, so that a request a moment late does not fetch again
	// (DefaultLinger when zero; negative for none).
	Linger time.Duration
	// MaxBody bounds one shared download (DefaultMaxBody when zero); each
	// reader applies its own, smaller limits too.
	MaxBody int64
	// Logger receives a debug line per upstream download.
	Logger *slog.Logger
}

// Defaults of ShareOptions.
const (
	DefaultMaxDownloads = 16
	DefaultLinger       = 5 * time.Second
	DefaultMaxBody      = 8 << 30
	// maxPerURL bounds the per-URL counters a long-running daemon keeps.
	maxPerURL = 4096
)

// ShareStats count what a Share did.
type ShareStats struct {
	// Upstream is how many downloads went to the network; Joined how many
	// requests read one already under way (or just finished) instead.
	Upstream      int64 `json:"upstream"`
	Joined        int64 `json:"joined"`
	UpstreamBytes int64 `json:"upstreamBytes"`
	InFlight      int64 `json:"inFlight"`
	// Work and WorkJoined count Do: runs started and callers that joined one.
	Work       int64 `json:"work"`
	WorkJoined int64 `json:"workJoined"`
	// PerURL is how many times each URL was downloaded whole with 200 OK
	// (the first maxPerURL URLs); downloads stopped early, 304 Not
	// Modified and errors are not counted.
	PerURL map[string]int64 `json:"perURL,omitempty"`
}

// NewShare returns a Share.
func NewShare(opt ShareOptions) *Share {
	if opt.MaxDownloads <= 0 {
		opt.MaxDownloads = DefaultMaxDownloads
	}
	if opt.Linger == 0 {
		opt.Linger = DefaultLinger
	}
	if opt.MaxBody <= 0 {
		opt.MaxBody = DefaultMaxBody
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	return &Share{opt: opt, sem: make(chan struct{}, opt.MaxDownloads), calls: map[string]*call{},
		flights: map[string]*flight{}, stats: ShareStats{PerURL: map[string]int64{}}}
}

// Stats returns a copy of the counters.
func (s *Share) Stats() ShareStats {
	if s == nil {
		return ShareStats{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.PerURL = make(map[string]int64, len(s.stats.PerURL))
	for k, v := range s.stats.PerURL {
		st.PerURL[k] = v
	}
	return st
}

// call is one run of Do's work and the callers waiting on it.
type call struct {
	done    chan struct{}
	val     any
	err     error
	waiters int
	cancel  context.CancelFunc
}

// Do runs fn once for every concurrent caller with the same key and gives
// each its result; joined says whether this caller waited on a run another
// started. fn's context carries the first caller's values but not its
// cancellation: it ends when the last waiting caller has gone. A caller
// whose ctx ends returns ctx.Err() at once.
func (s *Share) Do(ctx context.Context, key string, fn func(context.Context) (any, error)) (v any, joined bool, err error) {
	if s == nil {
		v, err = fn(ctx)
		return v, false, err
	}
	s.mu.Lock()
	c, joined := s.calls[key]
	if joined {
		s.stats.WorkJoined++
	} else {
		wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		c = &call{done: make(chan struct{}), cancel: cancel}
		s.calls[key] = c
		s.stats.Work++
		go func() {
			v, err := fn(wctx)
			s.mu.Lock()
			c.val, c.err = v, err
			if s.calls[key] == c {
				delete(s.calls, key)
			}
			s.mu.Unlock()
			cancel()
			close(c.done)
		}()
	}
	c.waiters++
	s.mu.Unlock()
	select {
	case <-c.done:
		return c.val, joined, c.err
	case <-ctx.Done():
		s.mu.Lock()
		c.waiters--
		if c.waiters == 0 {
			// Nobody wants it any more: stop it, and let the next caller
			// start afresh rather than join a cancelled run.
			c.cancel()
			if s.calls[key] == c {
				delete(s.calls, key)
			}
		}
		s.mu.Unlock()
		return nil, joined, ctx.Err()
	}
}

// Shared is Do with a typed result.
func Shared[T any](ctx context.Context, s *Share, key string, fn func(context.Context) (T, error)) (T, bool, error) {
	v, joined, err := s.Do(ctx, key, func(ctx context.Context) (any, error) { return fn(ctx) })
	t, _ := v.(T)
	return t, joined, err
}

// Fetcher wraps pf so that concurrent fetches of the same package (by
// store.PackageKey: identity and checksum) run once. Progress events of a
// shared fetch go to the reporter of the request that started it.
func (s *Share) Fetcher(pf repo.PackageFetcher) repo.PackageFetcher {
	if s == nil {
		return pf
	}
	return sharedFetcher{s: s, pf: pf}
}

type sharedFetcher struct {
	s  *Share
	pf repo.PackageFetcher
}

func (f sharedFetcher) FetchPackage(ctx context.Context, p repo.Planned) (string, error) {
	d, _, err := Shared(ctx, f.s, "package\x00"+store.PackageKey(p), func(ctx context.Context) (string, error) {
		return f.pf.FetchPackage(ctx, p)
	})
	return d, err
}
