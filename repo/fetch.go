package repo

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Errors of Fetcher that callers branch on. They are wrapped with the URL.
var (
	// ErrNotFound is a 404 or 410 answer. Never retried.
	ErrNotFound = errors.New("not found")
	// ErrTooLarge is a body longer than the expected size or the cap.
	ErrTooLarge = errors.New("larger than allowed")
	// ErrTooSlow is a server that sent no headers in time or whose bytes
	// arrived slower than the minimum rate.
	ErrTooSlow = errors.New("transfer too slow")
	// ErrTruncated is a body that ended before its announced or expected
	// size. Retried.
	ErrTruncated = errors.New("truncated")
	// ErrSizeMismatch is a Content-Length other than the expected size.
	ErrSizeMismatch = errors.New("size mismatch")
)

// Defaults of Fetcher's zero fields.
const (
	DefaultRetries       = 3
	DefaultBackoff       = 500 * time.Millisecond
	DefaultHeaderTimeout = 30 * time.Second
	DefaultMinRate       = 1024 // bytes per second
	DefaultRateWindow    = 30 * time.Second
	DefaultMaxSize       = 256 << 20
)

// metaValidators is the Cache meta namespace of conditional-request
// validators, keyed by URL.
const metaValidators = "http-validators"

// Fetcher downloads over HTTP into a Cache with bounded sizes, times and
// retries. The zero value of each field selects its default; a Fetcher is
// safe for concurrent use once configured.
type Fetcher struct {
	// Client sends the requests; nil is http.DefaultClient, whose transport
	// already bounds connecting. Inject a RoundTripper through it in tests.
	Client *http.Client
	// Cache receives what Get downloads and holds conditional validators.
	Cache Cache
	// Retries is how many times a transient failure (5xx, 408, 429, reset
	// or refused connections, timeouts, a truncated or too slow body) is
	// retried. 0 is DefaultRetries, negative is none. 404, 403 and failed
	// verification are never retried.
	Retries int
	// Backoff is the wait before the first retry, doubled for each next.
	Backoff time.Duration
	// HeaderTimeout bounds connecting plus waiting for response headers.
	HeaderTimeout time.Duration
	// MinRate in bytes per second, averaged over RateWindow: a body that
	// arrives slower fails with ErrTooSlow. Negative turns the check off.
	MinRate    int64
	RateWindow time.Duration
	// MaxSize caps a body whose size the caller does not know.
	MaxSize int64
	// UserAgent is sent when not empty.
	UserAgent string
	// Reporter receives progress events.
	Reporter Reporter
}

// GetOptions describe one download.
type GetOptions struct {
	// Size is the exact expected length; 0 means unknown, and then MaxSize
	// (or Fetcher.MaxSize) caps the body.
	Size int64
	// SHA256 is the expected digest, lower-case hex. When set and the cache
	// holds it, Get sends no request; otherwise Cache.Put refuses content
	// that does not hash to it.
	SHA256  string
	MaxSize int64
	// Conditional remembers the response's ETag and Last-Modified for this
	// URL and sends them next time; a 304 answers from the cache.
	Conditional bool
	// Check, when set, is called with the complete body (or, after a 304,
	// the cached content) before it is kept; an error keeps nothing. Used
	// for content verified by its signature rather than a known digest.
	Check func(data []byte) error
	// Kind and Name label progress events; Kind defaults to EventDownload.
	Kind EventKind
	Name string
	// BlobKind (a Blob* kind) and BlobName label the kept blob in a cache
	// that keeps labels (LabelingCache); BlobName defaults to Name.
	BlobKind, BlobName string
}

// Result says what Get kept.
type Result struct {
	Digest string
	Size   int64 // opt.Size when answered from the cache by digest
	// Cached is true when no body was transferred: the cache held SHA256,
	// or the server answered 304 Not Modified.
	Cached bool
}

// HTTPError is an answer with a status other than 200 (or an expected 304).
type HTTPError struct {
	URL        string
	StatusCode int
	Status     string
}

func (e *HTTPError) Error() string { return "GET " + e.URL + ": " + e.Status }

// Is makes errors.Is(err, ErrNotFound) true for 404 and 410.
func (e *HTTPError) Is(target error) bool {
	return target == ErrNotFound && (e.StatusCode == http.StatusNotFound || e.StatusCode == http.StatusGone)
}

func (e *HTTPError) transient() bool {
	return e.StatusCode >= 500 || e.StatusCode == http.StatusRequestTimeout || e.StatusCode == http.StatusTooManyRequests
}

// validators are what a conditional request remembers for a URL.
type validators struct {
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"lastModified,omitempty"`
	Digest       string `json:"digest"`
	Size         int64  `json:"size"`
}

// Get downloads url into the cache and returns the digest it is kept under.
// Nothing is kept unless the whole body arrived and passed every check
// (size, SHA256, opt.Check).
func (f *Fetcher) Get(ctx context.Context, url string, opt GetOptions) (Result, error) {
	if f.Cache == nil {
		return Result{}, fmt.Errorf("GET %s: fetcher has no cache", url)
	}
	if opt.SHA256 != "" && f.Cache.Has(opt.SHA256) {
		f.report(opt, opt.Size, opt.Size, true)
		return Result{Digest: opt.SHA256, Size: opt.Size, Cached: true}, nil
	}
	var old *validators
	if opt.Conditional {
		old = f.loadValidators(url)
	}
	var res Result
	err := f.retry(ctx, url, func(ctx context.Context) error {
		var hdr http.Header
		if old != nil {
			hdr = http.Header{}
			if old.ETag != "" {
				hdr.Set("If-None-Match", old.ETag)
			}
			if old.LastModified != "" {
				hdr.Set("If-Modified-Since", old.LastModified)
			}
		}
		return f.attempt(ctx, url, opt, hdr, func(resp *http.Response, body io.Reader) error {
			if resp.StatusCode == http.StatusNotModified {
				var err error
				res, err = f.notModified(ctx, url, opt, old)
				return err
			}
			var err error
			res, err = f.keep(ctx, opt, body)
			if err == nil && opt.Conditional {
				f.saveValidators(url, resp.Header, res)
			}
			return err
		})
	})
	return res, err
}

// Stream performs a GET and passes the body, bounded by opt.Size or the
// cap, to fn; a transient failure retries with a fresh body, so fn must
// not keep anything before it returns nil. opt.SHA256 and opt.Check are
// not applied: fn verifies what it reads.
func (f *Fetcher) Stream(ctx context.Context, url string, opt GetOptions, fn func(body io.Reader) error) error {
	return f.retry(ctx, url, func(ctx context.Context) error {
		return f.attempt(ctx, url, opt, nil, func(_ *http.Response, body io.Reader) error { return fn(body) })
	})
}

// GetBytes downloads a small file into memory, bypassing the cache.
func (f *Fetcher) GetBytes(ctx context.Context, url string, opt GetOptions) ([]byte, error) {
	var data []byte
	err := f.Stream(ctx, url, opt, func(body io.Reader) (err error) {
		data, err = io.ReadAll(body)
		return err
	})
	return data, err
}

// keep stores a body in the cache, through opt.Check when set.
func (f *Fetcher) keep(ctx context.Context, opt GetOptions, body io.Reader) (Result, error) {
	size := opt.Size
	if size <= 0 {
		size = -1
	}
	if opt.Check != nil {
		data, err := io.ReadAll(body)
		if err != nil {
			return Result{}, err
		}
		if err := opt.Check(data); err != nil {
			return Result{}, err
		}
		body, size = bytes.NewReader(data), int64(len(data))
	}
	var (
		d   string
		n   int64
		err error
	)
	if opt.BlobKind != "" {
		name := cmp.Or(opt.BlobName, opt.Name)
		d, n, err = PutLabeled(ctx, f.Cache, body, opt.SHA256, size, opt.BlobKind, name)
	} else {
		d, n, err = f.Cache.Put(ctx, body, opt.SHA256, size)
	}
	if err != nil {
		return Result{}, err
	}
	return Result{Digest: d, Size: n}, nil
}

// notModified answers a 304 from the cached copy the validators name.
func (f *Fetcher) notModified(ctx context.Context, url string, opt GetOptions, old *validators) (Result, error) {
	if old == nil {
		return Result{}, &HTTPError{URL: url, StatusCode: http.StatusNotModified, Status: "304 Not Modified to an unconditional request"}
	}
	if opt.Check != nil {
		rc, err := f.Cache.Open(ctx, old.Digest)
		if err != nil {
			return Result{}, fmt.Errorf("304 but cached copy: %w", err)
		}
		data, err := io.ReadAll(io.LimitReader(rc, f.limit(opt)+1))
		rc.Close()
		if err != nil {
			return Result{}, fmt.Errorf("304 but cached copy: %w", err)
		}
		if err := opt.Check(data); err != nil {
			return Result{}, err
		}
	}
	f.report(opt, old.Size, old.Size, true)
	return Result{Digest: old.Digest, Size: old.Size, Cached: true}, nil
}

func (f *Fetcher) loadValidators(url string) *validators {
	b, err := f.Cache.GetMeta(metaValidators, url)
	if err != nil {
		return nil
	}
	var v validators
	if json.Unmarshal(b, &v) != nil || v.Digest == "" || (v.ETag == "" && v.LastModified == "") || !f.Cache.Has(v.Digest) {
		return nil
	}
	return &v
}

func (f *Fetcher) saveValidators(url string, h http.Header, res Result) {
	v := validators{ETag: h.Get("ETag"), LastModified: h.Get("Last-Modified"), Digest: res.Digest, Size: res.Size}
	if v.ETag == "" && v.LastModified == "" {
		return
	}
	b, _ := json.Marshal(v)
	// A lost validator only costs a full download next time.
	_ = f.Cache.SetMeta(metaValidators, url, b)
}
