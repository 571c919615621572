package repo

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestFetcherFailures(t *testing.T) {
	payload := []byte(strings.Repeat("0123456789", 100))
	good := GetOptions{Size: int64(len(payload)), SHA256: sum(payload)}
	tests := []struct {
		name     string
		handler  http.HandlerFunc
		opt      GetOptions
		retries  int
		wantErr  error  // errors.Is target, or nil
		wantText string // substring of the message
		requests int64
	}{
		{
			name:    "404 not retried",
			handler: func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) },
			opt:     good, retries: 3, wantErr: ErrNotFound, wantText: "404", requests: 1,
		},
		{
			name:    "403 not retried",
			handler: func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusForbidden) },
			opt:     good, retries: 3, wantText: "403 Forbidden", requests: 1,
		},
		{
			name:    "500 retried then fails",
			handler: func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusInternalServerError) },
			opt:     good, retries: 2, wantText: "500 Internal Server Error", requests: 3,
		},
		{
			name: "sha256 mismatch not retried",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Write(bytes.ToUpper(payload[:len(payload)-1]))
				w.Write([]byte("X"))
			},
			opt: good, retries: 3, wantText: "sha256", requests: 1,
		},
		{
			name: "truncated body retried",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "1000")
				w.Write(payload[:500])
				// Returning closes the connection short of Content-Length.
			},
			opt: good, retries: 1, wantErr: ErrTruncated, requests: 2,
		},
		{
			name: "short body without length",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Write(payload[:500])
				w.(http.Flusher).Flush()
			},
			opt: good, retries: -1, wantErr: ErrTruncated, requests: 1,
		},
		{
			name:    "Content-Length over expected size",
			handler: func(w http.ResponseWriter, r *http.Request) { w.Write(append(payload, 'x')) },
			opt:     good, retries: 3, wantErr: ErrSizeMismatch, wantText: "Content-Length 1001", requests: 1,
		},
		{
			name:    "Content-Length under expected size",
			handler: func(w http.ResponseWriter, r *http.Request) { w.Write(payload[:999]) },
			opt:     good, retries: 3, wantErr: ErrSizeMismatch, wantText: "Content-Length 999, expected 1000", requests: 1,
		},
		{
			name: "Content-Length over cap",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "1000000")
			},
			opt: GetOptions{MaxSize: 4096}, retries: 3, wantErr: ErrTooLarge, wantText: "Content-Length 1000000, at most 4096", requests: 1,
		},
		{
			name: "chunked body over expected size",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Write(payload)
				w.(http.Flusher).Flush()
				w.Write(payload)
			},
			opt: good, retries: 3, wantErr: ErrTooLarge, requests: 1,
		},
		{
			name: "unknown size over cap",
			handler: func(w http.ResponseWriter, r *http.Request) {
				for range 10 {
					w.Write(payload)
					w.(http.Flusher).Flush()
				}
			},
			opt: GetOptions{MaxSize: 4096}, retries: 3, wantErr: ErrTooLarge, wantText: "more than 4096 bytes", requests: 1,
		},
		{
			name: "trickling server",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "1000")
				for i := range 1000 {
					if _, err := w.Write(payload[i : i+1]); err != nil {
						return
					}
					w.(http.Flusher).Flush()
					select {
					case <-r.Context().Done():
						return
					case <-time.After(20 * time.Millisecond):
					}
				}
			},
			opt: good, retries: 1, wantErr: ErrTooSlow, wantText: "bytes/s wanted", requests: 2,
		},
		{
			name: "no headers in time",
			handler: func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-r.Context().Done():
				case <-time.After(5 * time.Second):
				}
			},
			opt: good, retries: -1, wantErr: ErrTooSlow, wantText: "no response headers", requests: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, n := server(t, tt.handler)
			c := newMemCache()
			f := fastFetcher(c)
			f.HeaderTimeout = 300 * time.Millisecond
			f.Retries = tt.retries
			start := time.Now()
			_, err := f.Get(context.Background(), s.URL+"/file", tt.opt)
			if err == nil {
				t.Fatal("no error")
			}
			t.Log(err)
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("error %q is not %q", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q does not say %q", err, tt.wantText)
			}
			if !strings.Contains(err.Error(), s.URL+"/file") {
				t.Errorf("error %q does not name the URL", err)
			}
			if got := n.Load(); got != tt.requests {
				t.Errorf("%d requests, want %d", got, tt.requests)
			}
			if c.count() != 0 {
				t.Errorf("cache holds %d blobs after a failed fetch", c.count())
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

func TestFetcherRetryRecovers(t *testing.T) {
	payload := []byte("hello")
	var calls int
	s, n := server(t, func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls < 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Write(payload)
	})
	f := fastFetcher(newMemCache())
	var warnings int
	f.Reporter = func(e Event) {
		if e.Kind == EventWarning {
			warnings++
		}
	}
	got, err := f.GetBytes(context.Background(), s.URL, GetOptions{})
	if err != nil || string(got) != "hello" {
		t.Fatalf("GetBytes = %q, %v", got, err)
	}
	if n.Load() != 3 || warnings != 2 {
		t.Errorf("%d requests, %d warnings; want 3 and 2", n.Load(), warnings)
	}
}

func TestFetcherStreamFreshBodyOnRetry(t *testing.T) {
	payload := []byte(strings.Repeat("a", 2000))
	var calls int
	s, _ := server(t, func(w http.ResponseWriter, r *http.Request) {
		calls++
		w.Header().Set("Content-Length", "2000")
		if calls == 1 {
			w.Write(payload[:100])
			return
		}
		w.Write(payload)
	})
	f := fastFetcher(newMemCache())
	var bodies []int
	err := f.Stream(context.Background(), s.URL, GetOptions{Size: 2000}, func(r io.Reader) error {
		b, err := io.ReadAll(r)
		bodies = append(bodies, len(b))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(bodies) != 2 || bodies[1] != 2000 {
		t.Errorf("bodies read: %v", bodies)
	}
}

func TestFetcherContextCanceled(t *testing.T) {
	s, n := server(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadGateway) })
	f := fastFetcher(newMemCache())
	f.Backoff = time.Hour
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := f.Get(ctx, s.URL, GetOptions{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v", err)
	}
	if n.Load() != 1 {
		t.Errorf("%d requests", n.Load())
	}
}
