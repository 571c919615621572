package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

// ErrShareTooLarge is a shared download longer than ShareOptions.MaxBody.
var ErrShareTooLarge = errors.New("shared download larger than allowed")

// Client returns a client whose transport shares identical downloads (see
// Transport); c's other settings are kept. A nil c is http.DefaultClient.
func (s *Share) Client(c *http.Client) *http.Client {
	if c == nil {
		c = http.DefaultClient
	}
	if s == nil {
		return c
	}
	cc := *c
	cc.Transport = s.Transport(c.Transport)
	return &cc
}

// Transport wraps next (http.DefaultTransport when nil) so that identical
// GET requests under way at once (same URL and headers) make one request
// upstream: its body is kept in an unlinked spool file that every reader
// reads at its own pace, while the download goes on as fast as the server
// sends. The download ends when the last reader has closed its body before
// the end. Other requests pass through, within the same download limit.
func (s *Share) Transport(next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	if s == nil {
		return next
	}
	return &shareTransport{s: s, next: next}
}

type shareTransport struct {
	s    *Share
	next http.RoundTripper
}

// flight is one upstream download and the readers of its spool.
type flight struct {
	key, url string
	ready    chan struct{} // closed once resp or err is set
	resp     *http.Response
	err      error
	cancel   context.CancelFunc

	// Guarded by Share.mu.
	refs     int
	removed  bool // no longer joinable
	pumpDone bool
	timer    *time.Timer

	mu      sync.Mutex // guards what follows
	spool   *os.File
	size    int64
	done    bool
	bodyErr error
	changed chan struct{} // closed and replaced when size or done change
}

func shareKey(r *http.Request) (string, bool) {
	if r.Method != http.MethodGet || (r.Body != nil && r.Body != http.NoBody) || r.Header.Get("Range") != "" {
		return "", false
	}
	var b strings.Builder
	b.WriteString(r.URL.String())
	keys := make([]string, 0, len(r.Header))
	for k := range r.Header {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "\x00%s=%q", k, r.Header[k])
	}
	return b.String(), true
}

func (t *shareTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	key, ok := shareKey(r)
	if !ok {
		return t.passThrough(r)
	}
	s := t.s
	s.mu.Lock()
	f := s.flights[key]
	if f != nil {
		s.stats.Joined++
	} else {
		f = &flight{key: key, url: r.URL.String(), ready: make(chan struct{}), changed: make(chan struct{})}
		ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
		f.cancel = cancel
		s.flights[key] = f
		s.stats.Upstream++
		s.stats.InFlight++
		go t.pump(ctx, f, r.Clone(ctx))
	}
	f.refs++
	if f.timer != nil {
		f.timer.Stop()
		f.timer = nil
	}
	s.mu.Unlock()

	select {
	case <-f.ready:
	case <-r.Context().Done():
		s.release(f)
		return nil, r.Context().Err()
	}
	if f.err != nil {
		s.release(f)
		return nil, f.err
	}
	resp := *f.resp
	resp.Header = f.resp.Header.Clone()
	resp.Trailer = nil
	resp.Request = r
	resp.Body = &spoolReader{s: s, f: f, ctx: r.Context()}
	return &resp, nil
}

// passThrough sends a request that cannot be shared, within the limit.
func (t *shareTransport) passThrough(r *http.Request) (*http.Response, error) {
	select {
	case t.s.sem <- struct{}{}:
	case <-r.Context().Done():
		return nil, r.Context().Err()
	}
	resp, err := t.next.RoundTrip(r)
	if err != nil {
		<-t.s.sem
		return nil, err
	}
	resp.Body = &releaseBody{ReadCloser: resp.Body, release: func() { <-t.s.sem }}
	return resp, nil
}

type releaseBody struct {
	io.ReadCloser
	once    sync.Once
	release func()
}

func (b *releaseBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.release)
	return err
}

// pump makes the upstream request and copies its body into the spool.
func (t *shareTransport) pump(ctx context.Context, f *flight, r *http.Request) {
	s := t.s
	t0 := time.Now()
	var n int64
	complete := false
	defer func() {
		s.mu.Lock()
		f.pumpDone = true
		s.stats.InFlight--
		s.stats.UpstreamBytes += n
		if complete {
			if _, ok := s.stats.PerURL[f.url]; ok || len(s.stats.PerURL) < maxPerURL {
				s.stats.PerURL[f.url]++
			}
		}
		if f.err != nil || f.bodyErr != nil {
			s.remove(f) // a failed download is not handed to later requests
		} else if f.refs == 0 {
			s.linger(f)
		}
		s.closeIfIdle(f)
		s.mu.Unlock()
		f.cancel()
		if complete {
			s.opt.Logger.Debug("upstream download", "url", f.url, "bytes", n, "duration", time.Since(t0).Round(time.Millisecond))
		} else {
			s.opt.Logger.Debug("upstream request", "url", f.url, "status", respStatus(f.resp), "bytes", n, "err", errors.Join(f.err, f.bodyErr))
		}
	}()
	fail := func(err error) {
		f.err = err
		close(f.ready)
	}
	select {
	case s.sem <- struct{}{}:
		defer func() { <-s.sem }()
	case <-ctx.Done():
		fail(ctx.Err())
		return
	}
	spool, err := os.CreateTemp(s.opt.SpoolDir, "rootfsd-share-*")
	if err != nil {
		fail(fmt.Errorf("share: spool: %w", err))
		return
	}
	os.Remove(spool.Name()) // unlinked: nothing is left behind, whatever happens
	f.spool = spool
	resp, err := t.next.RoundTrip(r)
	if err != nil {
		fail(err)
		return
	}
	defer resp.Body.Close()
	head := *resp
	head.Body = nil
	f.resp = &head
	close(f.ready)

	buf := make([]byte, 256<<10)
	for {
		m, rerr := resp.Body.Read(buf)
		if m > 0 {
			if n+int64(m) > s.opt.MaxBody {
				f.finish(0, fmt.Errorf("GET %s: %w: more than %d bytes", f.url, ErrShareTooLarge, s.opt.MaxBody))
				return
			}
			if _, werr := spool.WriteAt(buf[:m], n); werr != nil {
				f.finish(0, fmt.Errorf("share: spool: %w", werr))
				return
			}
			n += int64(m)
			f.finish(int64(m), nil)
		}
		if rerr == io.EOF {
			complete = resp.StatusCode == http.StatusOK
			f.finish(0, io.EOF)
			return
		}
		if rerr != nil {
			f.finish(0, rerr)
			return
		}
	}
}
