package repo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// memCache is a repo.Cache in memory that verifies like the real one.
type memCache struct {
	mu    sync.Mutex
	blobs map[string][]byte
	meta  map[string][]byte
}

func newMemCache() *memCache {
	return &memCache{blobs: map[string][]byte{}, meta: map[string][]byte{}}
}

func (c *memCache) Put(_ context.Context, r io.Reader, want string, size int64) (string, int64, error) {
	if size >= 0 {
		r = io.LimitReader(r, size+1)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return "", 0, fmt.Errorf("cache put: %w", err)
	}
	if size >= 0 && int64(len(data)) != size {
		return "", 0, fmt.Errorf("cache put: size %d, want %d", len(data), size)
	}
	sum := sha256.Sum256(data)
	d := hex.EncodeToString(sum[:])
	if want != "" && d != want {
		return "", 0, fmt.Errorf("cache put: sha256 %s, want %s", d, want)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.blobs[d] = data
	return d, int64(len(data)), nil
}

func (c *memCache) Open(_ context.Context, d string) (io.ReadCloser, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.blobs[d]
	if !ok {
		return nil, ErrNotCached
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

func (c *memCache) Has(d string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.blobs[d]
	return ok
}

func (c *memCache) Path(d string) string { return "" }

func (c *memCache) GetMeta(ns, key string) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.meta[ns+"\x00"+key]
	if !ok {
		return nil, ErrNotCached
	}
	return b, nil
}

func (c *memCache) SetMeta(ns, key string, v []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.meta[ns+"\x00"+key] = v
	return nil
}

func (c *memCache) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.blobs)
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// server serves handler and counts requests.
func server(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h(w, r)
	}))
	t.Cleanup(s.Close)
	return s, &n
}

func fastFetcher(c Cache) *Fetcher {
	return &Fetcher{Cache: c, Backoff: time.Millisecond, HeaderTimeout: 2 * time.Second, RateWindow: 200 * time.Millisecond, MinRate: 1000}
}

func TestFetcherGet(t *testing.T) {
	payload := []byte(strings.Repeat("rootfsd ", 1000))
	s, n := server(t, func(w http.ResponseWriter, r *http.Request) { w.Write(payload) })
	c := newMemCache()
	var events []Event
	var mu sync.Mutex
	f := fastFetcher(c)
	f.Reporter = func(e Event) { mu.Lock(); events = append(events, e); mu.Unlock() }
	res, err := f.Get(context.Background(), s.URL+"/a", GetOptions{Size: int64(len(payload)), SHA256: sum(payload), Name: "a"})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(Result{Digest: sum(payload), Size: int64(len(payload))}, res); d != "" {
		t.Errorf("result (-want +got):\n%s", d)
	}
	// Known digest already cached: no request at all.
	res, err = f.Get(context.Background(), s.URL+"/a", GetOptions{Size: int64(len(payload)), SHA256: sum(payload), Name: "a"})
	if err != nil || !res.Cached {
		t.Fatalf("second get: %+v, %v", res, err)
	}
	if n.Load() != 1 {
		t.Errorf("%d requests, want 1", n.Load())
	}
	last := events[len(events)-1]
	if last.Kind != EventDownload || last.Name != "a" || !last.Cached {
		t.Errorf("last event %+v", last)
	}
	if done := events[len(events)-2]; done.Current != int64(len(payload)) || done.Total != int64(len(payload)) || done.Cached {
		t.Errorf("download finished with event %+v", done)
	}
}

func TestFetcherConditional(t *testing.T) {
	payload := []byte("Suite: test\n")
	s, n := server(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		w.Write(payload)
	})
	c := newMemCache()
	f := fastFetcher(c)
	var checked int
	opt := GetOptions{Conditional: true, Check: func(b []byte) error {
		checked++
		if !bytes.Equal(b, payload) {
			return fmt.Errorf("check got %q", b)
		}
		return nil
	}}
	for i, wantCached := range []bool{false, true, true} {
		res, err := f.Get(context.Background(), s.URL+"/InRelease", opt)
		if err != nil {
			t.Fatalf("get %d: %v", i, err)
		}
		if res.Cached != wantCached || res.Digest != sum(payload) || res.Size != int64(len(payload)) {
			t.Errorf("get %d: %+v", i, res)
		}
	}
	if n.Load() != 3 || checked != 3 {
		t.Errorf("%d requests, %d checks, want 3 and 3", n.Load(), checked)
	}
	// A failing check on the cached copy is an error.
	opt.Check = func([]byte) error { return errors.New("stale") }
	if _, err := f.Get(context.Background(), s.URL+"/InRelease", opt); err == nil || !strings.Contains(err.Error(), "stale") {
		t.Errorf("check on 304: %v", err)
	}
}

func TestFetcherCheckRejects(t *testing.T) {
	s, _ := server(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"x"`)
		w.Write([]byte("bad"))
	})
	c := newMemCache()
	f := fastFetcher(c)
	_, err := f.Get(context.Background(), s.URL+"/x", GetOptions{Conditional: true, Check: func([]byte) error { return errors.New("bad signature") }})
	if err == nil || !strings.Contains(err.Error(), "bad signature") {
		t.Fatalf("err = %v", err)
	}
	if c.count() != 0 || len(c.meta) != 0 {
		t.Errorf("cache holds %d blobs, %d meta after a rejected body", c.count(), len(c.meta))
	}
}
