package engine

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rootfsd/rootfsd/repo"
	"github.com/rootfsd/rootfsd/store"
)

// slowServer serves /file/N (size bytes, sent in chunks with a pause) and
// counts requests per path. gate, when set, holds every body after its
// first chunk until it is closed.
type slowServer struct {
	*httptest.Server
	size  int
	pause time.Duration
	gate  chan struct{}
	mu    sync.Mutex
	hits  map[string]int
}

func newSlowServer(t *testing.T, size int, pause time.Duration) *slowServer {
	s := &slowServer{size: size, pause: pause, hits: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits[r.URL.Path]++
		s.mu.Unlock()
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		data := content(r.URL.Path, s.size)
		w.Header().Set("Content-Length", fmt.Sprint(len(data)))
		w.Header().Set("ETag", `"x"`)
		for i := 0; i < len(data); i += 64 << 10 {
			end := min(i+64<<10, len(data))
			if _, err := w.Write(data[i:end]); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			if i == 0 && s.gate != nil {
				select {
				case <-s.gate:
				case <-r.Context().Done():
					return
				}
			}
			time.Sleep(s.pause)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *slowServer) hitsOf(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

func content(name string, size int) []byte {
	var b bytes.Buffer
	for b.Len() < size {
		fmt.Fprintf(&b, "%s:%d\n", name, b.Len())
	}
	return b.Bytes()[:size]
}

func get(ctx context.Context, c *http.Client, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("%s", resp.Status)
	}
	return io.ReadAll(resp.Body)
}

// Eight clients fetching the same two files at once make two downloads,
// and each gets every byte.
func TestShareTransportDownloadsOnce(t *testing.T) {
	srv := newSlowServer(t, 1<<20, 2*time.Millisecond)
	s := NewShare(ShareOptions{SpoolDir: t.TempDir()})
	c := s.Client(nil)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			path := fmt.Sprintf("/file/%d", i%2)
			got, err := get(context.Background(), c, srv.URL+path)
			if err == nil && !bytes.Equal(got, content(path, srv.size)) {
				err = fmt.Errorf("%s: wrong content (%d bytes)", path, len(got))
			}
			errs <- err
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	for _, p := range []string{"/file/0", "/file/1"} {
		if n := srv.hitsOf(p); n != 1 {
			t.Errorf("%s downloaded %d times, want 1", p, n)
		}
	}
	st := s.Stats()
	if st.Upstream != 2 || st.Joined != 6 || st.UpstreamBytes != 2<<20 || st.InFlight != 0 {
		t.Errorf("stats %+v", st)
	}
	if d := cmp.Diff(map[string]int64{srv.URL + "/file/0": 1, srv.URL + "/file/1": 1}, st.PerURL); d != "" {
		t.Errorf("per-URL (-want +got):\n%s", d)
	}
}

// A reader that goes away mid-download leaves the others' download going;
// when the last reader goes, the download stops.
func TestShareTransportCancelOnlyOwnPart(t *testing.T) {
	srv := newSlowServer(t, 512<<10, time.Millisecond)
	srv.gate = make(chan struct{})
	s := NewShare(ShareOptions{SpoolDir: t.TempDir(), Linger: -1})
	c := s.Client(nil)
	ctx1, cancel1 := context.WithCancel(context.Background())
	res1, res2 := make(chan error, 1), make(chan []byte, 1)
	go func() { _, err := get(ctx1, c, srv.URL+"/file/a"); res1 <- err }()
	go func() { b, _ := get(context.Background(), c, srv.URL+"/file/a"); res2 <- b }()
	for s.Stats().Joined != 1 {
		time.Sleep(time.Millisecond)
	}
	cancel1()
	if err := <-res1; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled reader: %v", err)
	}
	close(srv.gate)
	if b := <-res2; !bytes.Equal(b, content("/file/a", srv.size)) {
		t.Errorf("remaining reader got %d bytes", len(b))
	}
	if n := srv.hitsOf("/file/a"); n != 1 {
		t.Errorf("downloaded %d times", n)
	}

	// Now the only reader leaves: the upstream request is cancelled.
	srv.gate = make(chan struct{})
	defer close(srv.gate)
	ctx3, cancel3 := context.WithCancel(context.Background())
	res3 := make(chan error, 1)
	go func() { _, err := get(ctx3, c, srv.URL+"/file/b"); res3 <- err }()
	for s.Stats().InFlight != 1 {
		time.Sleep(time.Millisecond)
	}
	cancel3()
	<-res3
	deadline := time.Now().Add(5 * time.Second)
	for s.Stats().InFlight != 0 {
		if time.Now().After(deadline) {
			t.Fatal("upstream download still running after its only reader left")
		}
		time.Sleep(time.Millisecond)
	}
	// A new request after that starts afresh and succeeds.
	go func() {
		time.Sleep(50 * time.Millisecond)
		srv.gate <- struct{}{}
	}()
	if b, err := get(context.Background(), c, srv.URL+"/file/b"); err != nil || len(b) != srv.size {
		t.Errorf("fresh request after a cancelled one: %d bytes, %v", len(b), err)
	}
}

// A request arriving just after a download finished reads the spool
// within the linger time, and fetches again after it.
func TestShareTransportLinger(t *testing.T) {
	srv := newSlowServer(t, 1000, 0)
	// The linger is long enough that three local requests fit in it on a
	// loaded machine.
	s := NewShare(ShareOptions{SpoolDir: t.TempDir(), Linger: time.Second})
	c := s.Client(nil)
	for i := 0; i < 3; i++ {
		if _, err := get(context.Background(), c, srv.URL+"/file/l"); err != nil {
			t.Fatal(err)
		}
	}
	if n := srv.hitsOf("/file/l"); n != 1 {
		t.Errorf("within linger: %d downloads", n)
	}
	time.Sleep(1500 * time.Millisecond)
	if _, err := get(context.Background(), c, srv.URL+"/file/l"); err != nil {
		t.Fatal(err)
	}
	if n := srv.hitsOf("/file/l"); n != 2 {
		t.Errorf("after linger: %d downloads, want 2", n)
	}
}

// Requests that differ in headers (a conditional request against a plain
// one) or method are not merged; a 404 is shared as it is.
func TestShareTransportKeys(t *testing.T) {
	srv := newSlowServer(t, 100, 0)
	s := NewShare(ShareOptions{SpoolDir: t.TempDir(), Linger: time.Minute})
	c := s.Client(nil)
	if _, err := get(context.Background(), c, srv.URL+"/file/k"); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/file/k", nil)
	req.Header.Set("If-None-Match", `"y"`)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if n := srv.hitsOf("/file/k"); n != 2 {
		t.Errorf("conditional request merged with a plain one: %d downloads", n)
	}
	head, err := c.Head(srv.URL + "/file/k")
	if err != nil {
		t.Fatal(err)
	}
	head.Body.Close()
	if n := srv.hitsOf("/file/k"); n != 3 {
		t.Errorf("HEAD not passed through: %d requests", n)
	}
	for i := 0; i < 2; i++ {
		if _, err := get(context.Background(), c, srv.URL+"/missing"); err == nil || err.Error() != "404 Not Found" {
			t.Errorf("missing: %v", err)
		}
	}
}

// The fetcher of package repo, through a shared transport, into a real
// cache: four concurrent fetches of one verified file make one download.
func TestShareWithRepoFetcher(t *testing.T) {
	srv := newSlowServer(t, 300<<10, time.Millisecond)
	data := content("/file/pkg", srv.size)
	sum := fmt.Sprintf("%x", sha256.Sum256(data))
	s := NewShare(ShareOptions{SpoolDir: t.TempDir()})
	cache, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f := &repo.Fetcher{Client: s.Client(nil), Cache: cache}
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := f.Get(context.Background(), srv.URL+"/file/pkg", repo.GetOptions{Size: int64(len(data)), SHA256: sum})
			if err != nil || res.Digest != sum {
				t.Errorf("Get: %+v %v", res, err)
			}
		}()
	}
	wg.Wait()
	if n := srv.hitsOf("/file/pkg"); n != 1 {
		t.Errorf("downloaded %d times", n)
	}
}

func TestShareDo(t *testing.T) {
	s := NewShare(ShareOptions{})
	var runs atomic.Int32
	release := make(chan struct{})
	fn := func(ctx context.Context) (string, error) {
		runs.Add(1)
		select {
		case <-release:
			return "layer", nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	var wg sync.WaitGroup
	results := make(chan string, 4)
	ctxA, cancelA := context.WithCancel(context.Background())
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			ctx := context.Background()
			if i == 0 {
				ctx = ctxA
			}
			v, _, err := Shared(ctx, s, "layer:k", fn)
			if i == 0 {
				if !errors.Is(err, context.Canceled) {
					t.Errorf("cancelled caller: %v", err)
				}
				return
			}
			if err != nil {
				t.Error(err)
			}
			results <- v
		}(i)
	}
	for s.Stats().WorkJoined != 3 {
		time.Sleep(time.Millisecond)
	}
	cancelA()
	time.Sleep(10 * time.Millisecond)
	close(release)
	wg.Wait()
	close(results)
	for v := range results {
		if v != "layer" {
			t.Errorf("result %q", v)
		}
	}
	if n := runs.Load(); n != 1 {
		t.Errorf("work ran %d times", n)
	}

	// The last caller leaving cancels the work; the next call runs anew.
	ctxB, cancelB := context.WithCancel(context.Background())
	started := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, _, err := s.Do(ctxB, "k2", func(ctx context.Context) (any, error) {
			close(started)
			<-ctx.Done()
			done <- ctx.Err()
			return nil, ctx.Err()
		})
		_ = err
	}()
	<-started
	cancelB()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("abandoned work's ctx: %v", err)
	}
	v, joined, err := s.Do(context.Background(), "k2", func(context.Context) (any, error) { return 7, nil })
	if v != 7 || joined || err != nil {
		t.Errorf("fresh run: %v %v %v", v, joined, err)
	}
	var nilShare *Share
	if v, _, err := nilShare.Do(context.Background(), "x", func(context.Context) (any, error) { return 1, nil }); v != 1 || err != nil {
		t.Errorf("nil share: %v %v", v, err)
	}
}
