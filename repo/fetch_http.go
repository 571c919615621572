package repo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// transientError marks a failure worth another attempt.
type transientError struct{ err error }

func (e *transientError) Error() string { return e.err.Error() }
func (e *transientError) Unwrap() error { return e.err }

func isTransient(err error) bool {
	var t *transientError
	return errors.As(err, &t)
}

// retry runs op until it succeeds, fails for good, or the retries are spent.
func (f *Fetcher) retry(ctx context.Context, url string, op func(context.Context) error) error {
	retries := f.Retries
	if retries == 0 {
		retries = DefaultRetries
	}
	wait := f.Backoff
	if wait <= 0 {
		wait = DefaultBackoff
	}
	for try := 0; ; try++ {
		err := op(ctx)
		if err == nil || !isTransient(err) || try >= retries || ctx.Err() != nil {
			return err
		}
		f.Reporter.Report(Event{Kind: EventWarning, Name: url, Message: fmt.Sprintf("retrying in %v: %v", wait, err)})
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("GET %s: %w (after: %w)", url, ctx.Err(), err)
		case <-t.C:
		}
		wait *= 2
	}
}

// attempt sends one request and hands a 200 (or 304) to fn with a body
// that enforces the size limit and the minimum rate.
func (f *Fetcher) attempt(ctx context.Context, url string, opt GetOptions, hdr http.Header, fn func(*http.Response, io.Reader) error) error {
	parent := ctx
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	// Ask for the bytes as stored: a transparently decoded body would
	// defeat the size and digest checks.
	req.Header.Set("Accept-Encoding", "identity")
	if f.UserAgent != "" {
		req.Header.Set("User-Agent", f.UserAgent)
	}
	dog := f.watch(cancel)
	defer dog.stop()
	client := f.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		if parent.Err() != nil {
			return fmt.Errorf("GET %s: %w", url, parent.Err())
		}
		if c := context.Cause(ctx); c != nil {
			err = c
		}
		return &transientError{fmt.Errorf("GET %s: %w", url, err)}
	}
	defer resp.Body.Close()
	dog.headers()
	switch {
	case resp.StatusCode == http.StatusOK:
	case resp.StatusCode == http.StatusNotModified && hdr != nil:
		return fn(resp, http.NoBody)
	default:
		e := &HTTPError{URL: url, StatusCode: resp.StatusCode, Status: resp.Status}
		if e.transient() {
			return &transientError{e}
		}
		return e
	}
	limit := f.limit(opt)
	switch {
	case opt.Size > 0 && resp.ContentLength >= 0 && resp.ContentLength != opt.Size:
		return fmt.Errorf("GET %s: %w: Content-Length %d, expected %d", url, ErrSizeMismatch, resp.ContentLength, opt.Size)
	case resp.ContentLength > limit:
		return fmt.Errorf("GET %s: %w: Content-Length %d, at most %d", url, ErrTooLarge, resp.ContentLength, limit)
	}
	total := opt.Size
	if total <= 0 && resp.ContentLength > 0 {
		total = resp.ContentLength
	}
	b := &body{r: resp.Body, ctx: ctx, limit: limit, want: opt.Size, dog: dog, f: f, opt: opt, total: total}
	if err := fn(resp, b); err != nil {
		switch {
		case parent.Err() != nil:
			return fmt.Errorf("GET %s: %w", url, parent.Err())
		case b.netErr != nil:
			// Whatever fn made of it, the body did not arrive whole.
			return &transientError{fmt.Errorf("GET %s: %w", url, b.netErr)}
		}
		return fmt.Errorf("GET %s: %w", url, err)
	}
	f.report(opt, b.n, total, false)
	return nil
}

// limit is the most bytes a body may have.
func (f *Fetcher) limit(opt GetOptions) int64 {
	switch {
	case opt.Size > 0:
		return opt.Size
	case opt.MaxSize > 0:
		return opt.MaxSize
	case f.MaxSize > 0:
		return f.MaxSize
	}
	return DefaultMaxSize
}

func (f *Fetcher) report(opt GetOptions, cur, total int64, cached bool) {
	if f.Reporter == nil {
		return
	}
	kind := opt.Kind
	if kind == "" {
		kind = EventDownload
	}
	f.Reporter.Report(Event{Kind: kind, Name: opt.Name, Current: cur, Total: total, Cached: cached})
}

// body reads a response body: at most limit bytes, exactly want when want
// is positive, recording the first transport failure in netErr so that a
// caller's wrapping of it cannot hide that a retry may help.
type body struct {
	r      io.Reader
	ctx    context.Context
	limit  int64
	want   int64
	n      int64
	netErr error
	dog    *watchdog
	f      *Fetcher
	opt    GetOptions
	total  int64
	last   time.Time
}

func (b *body) Read(p []byte) (int, error) {
	if b.n > b.limit {
		return 0, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, b.limit)
	}
	if rest := b.limit + 1 - b.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := b.r.Read(p)
	b.n += int64(n)
	b.dog.add(n)
	if b.n > b.limit {
		return n, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, b.limit)
	}
	if now := time.Now(); b.f.Reporter != nil && now.Sub(b.last) > 200*time.Millisecond {
		b.last = now
		b.f.report(b.opt, b.n, b.total, false)
	}
	switch {
	case err == nil:
	case err == io.EOF:
		b.dog.stop() // the rate no longer matters once the body is in
		if b.want > 0 && b.n < b.want {
			b.netErr = fmt.Errorf("%w: got %d of %d bytes", ErrTruncated, b.n, b.want)
			return n, b.netErr
		}
	case errors.Is(err, io.ErrUnexpectedEOF):
		b.netErr = fmt.Errorf("%w after %d bytes: %w", ErrTruncated, b.n, err)
		return n, b.netErr
	default:
		if c := context.Cause(b.ctx); c != nil {
			err = c
		}
		if b.netErr == nil {
			b.netErr = fmt.Errorf("after %d bytes: %w", b.n, err)
		}
		return n, b.netErr
	}
	return n, err
}

// watchdog cancels a request whose headers do not arrive within the
// header timeout, or whose body arrives slower than the minimum rate.
type watchdog struct {
	bytes   atomic.Int64
	gotHdr  chan struct{}
	done    chan struct{}
	once    sync.Once
	stopped sync.WaitGroup
}

func (f *Fetcher) watch(cancel context.CancelCauseFunc) *watchdog {
	hdrTimeout, rate, window := f.HeaderTimeout, f.MinRate, f.RateWindow
	if hdrTimeout <= 0 {
		hdrTimeout = DefaultHeaderTimeout
	}
	if rate == 0 {
		rate = DefaultMinRate
	}
	if window <= 0 {
		window = DefaultRateWindow
	}
	w := &watchdog{gotHdr: make(chan struct{}), done: make(chan struct{})}
	w.stopped.Add(1)
	go func() {
		defer w.stopped.Done()
		t := time.NewTimer(hdrTimeout)
		defer t.Stop()
		select {
		case <-w.done:
			return
		case <-t.C:
			cancel(fmt.Errorf("%w: no response headers within %v", ErrTooSlow, hdrTimeout))
			return
		case <-w.gotHdr:
		}
		if rate < 0 {
			<-w.done
			return
		}
		tick := time.NewTicker(window)
		defer tick.Stop()
		minBytes := int64(float64(rate) * window.Seconds())
		var last int64
		for {
			select {
			case <-w.done:
				return
			case <-tick.C:
			}
			n := w.bytes.Load()
			if n-last < minBytes {
				cancel(fmt.Errorf("%w: %d bytes in %v, at least %d bytes/s wanted", ErrTooSlow, n-last, window, rate))
				return
			}
			last = n
		}
	}()
	return w
}

func (w *watchdog) headers()  { close(w.gotHdr) }
func (w *watchdog) add(n int) { w.bytes.Add(int64(n)) }
func (w *watchdog) stop() {
	w.once.Do(func() { close(w.done) })
	w.stopped.Wait()
}
