package attacks_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// proxy is the attacker: a man in the middle between rootfsd and a mirror
// (an httptest origin on 127.0.0.1). It forwards every request to the
// origin, conditional headers included, and lets a case rewrite, replace,
// delay or withhold any answer, chosen by the end of the request path.
type proxy struct {
	*httptest.Server
	origin string
	client *http.Client

	mu    sync.Mutex
	rules []rule
	hits  map[string]int
}

type rule struct {
	suffix string
	do     tamper
}

// answer is what the origin said.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// tamper answers one request in the origin's place; up fetches the
// origin's answer (at most once per call).
type tamper func(w http.ResponseWriter, r *http.Request, up func() answer)

// newProxy starts a proxy in front of origin; t's cleanup stops it.
func newProxy(t testing.TB, origin string) *proxy {
	t.Helper()
	p := &proxy{origin: strings.TrimRight(origin, "/"), client: &http.Client{Timeout: 10 * time.Second}, hits: map[string]int{}}
	p.Server = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.Close)
	return p
}

// on applies do to every request whose path ends in suffix; the first
// matching rule wins.
func (p *proxy) on(suffix string, do tamper) *proxy {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = append(p.rules, rule{suffix, do})
	return p
}

// reset drops every rule: the proxy forwards faithfully again.
func (p *proxy) reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = nil
}

// hitCount returns the requests seen for paths ending in suffix.
func (p *proxy) hitCount(suffix string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for path, c := range p.hits {
		if strings.HasSuffix(path, suffix) {
			n += c
		}
	}
	return n
}

func (p *proxy) serve(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.hits[r.URL.Path]++
	var do tamper
	for _, ru := range p.rules {
		if strings.HasSuffix(r.URL.Path, ru.suffix) {
			do = ru.do
			break
		}
	}
	p.mu.Unlock()
	var once sync.Once
	var a answer
	up := func() answer {
		once.Do(func() { a = p.forward(r, p.origin) })
		return a
	}
	if do == nil {
		do = passThrough
	}
	do(w, r, up)
}

// forward asks origin for r's path with r's conditional headers.
func (p *proxy) forward(r *http.Request, origin string) answer {
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, origin+r.URL.Path, nil)
	if err != nil {
		return answer{status: http.StatusBadGateway}
	}
	for _, h := range []string{"If-None-Match", "If-Modified-Since"} {
		if v := r.Header.Get(h); v != "" {
			req.Header.Set(h, v)
		}
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return answer{status: http.StatusBadGateway}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{status: http.StatusBadGateway}
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: body}
}

// write sends an answer as it is, with a correct Content-Length.
func (a answer) write(w http.ResponseWriter) {
	if etag := a.header.Get("ETag"); etag != "" {
		w.Header().Set("ETag", etag)
	}
	if a.status == http.StatusOK {
		w.Header().Set("Content-Length", strconv.Itoa(len(a.body)))
	}
	w.WriteHeader(a.status)
	w.Write(a.body)
}

func passThrough(w http.ResponseWriter, _ *http.Request, up func() answer) { up().write(w) }

// replace answers with body instead of the origin's file.
func replace(body []byte) tamper {
	return func(w http.ResponseWriter, _ *http.Request, _ func() answer) {
		answer{status: http.StatusOK, header: http.Header{}, body: body}.write(w)
	}
}

// edit answers with fn applied to the origin's file.
func edit(fn func([]byte) []byte) tamper {
	return func(w http.ResponseWriter, _ *http.Request, up func() answer) {
		a := up()
		if a.status == http.StatusOK {
			a.body = fn(bytes.Clone(a.body))
			a.header = http.Header{} // the ETag named the original
		}
		a.write(w)
	}
}

// flip changes one byte of the origin's file, at a fraction of its length.
func flip(at float64) tamper {
	return edit(func(b []byte) []byte {
		if len(b) > 0 {
			b[int(float64(len(b)-1)*at)] ^= 0x20
		}
		return b
	})
}

// from answers with the same path of another origin: the mix-and-match
// attack, one file from another snapshot.
func (p *proxy) from(origin string) tamper {
	return func(w http.ResponseWriter, r *http.Request, _ func() answer) { p.forward(r, origin).write(w) }
}

// file answers with the file at url instead: another package, another
// architecture's index.
func (p *proxy) file(url string) tamper {
	return func(w http.ResponseWriter, r *http.Request, _ func() answer) {
		origin, path, _ := strings.Cut(strings.TrimPrefix(url, "http://"), "/")
		r2 := r.Clone(r.Context())
		r2.URL.Path = "/" + path
		r2.Header.Del("If-None-Match")
		p.forward(r2, "http://"+origin).write(w)
	}
}

// status answers with an empty body and code.
func status(code int) tamper {
	return func(w http.ResponseWriter, _ *http.Request, _ func() answer) { w.WriteHeader(code) }
}

// notModified claims the client's copy is current, whatever it is: the
// freeze attack through conditional requests.
func notModified() tamper {
	return func(w http.ResponseWriter, _ *http.Request, _ func() answer) { w.WriteHeader(http.StatusNotModified) }
}

// endless sends prefix and then zeros for as long as the client reads,
// without a Content-Length.
func endless(prefix []byte) tamper {
	return func(w http.ResponseWriter, r *http.Request, _ func() answer) {
		w.WriteHeader(http.StatusOK)
		w.Write(prefix)
		chunk := make([]byte, 64<<10)
		for r.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}
}

// endlessGzip sends a valid gzip stream of zeros for as long as the
// client reads: a body that decompresses as well as it downloads.
func endlessGzip() tamper {
	return func(w http.ResponseWriter, r *http.Request, _ func() answer) {
		w.WriteHeader(http.StatusOK)
		zw := gzip.NewWriter(w)
		chunk := make([]byte, 1<<20)
		for r.Context().Err() == nil {
			if _, err := zw.Write(chunk); err != nil {
				return
			}
			if zw.Flush() != nil {
				return
			}
		}
	}
}

// trickle sends the origin's file a few bytes at a time: n bytes every
// tick, headers at once (the slow retrieval attack).
func trickle(n int, tick time.Duration) tamper {
	return func(w http.ResponseWriter, r *http.Request, up func() answer) {
		a := up()
		w.Header().Set("Content-Length", strconv.Itoa(len(a.body)))
		w.WriteHeader(a.status)
		fl, _ := w.(http.Flusher)
		for b := a.body; len(b) > 0; {
			k := min(n, len(b))
			if _, err := w.Write(b[:k]); err != nil {
				return
			}
			if fl != nil {
				fl.Flush()
			}
			b = b[k:]
			select {
			case <-r.Context().Done():
				return
			case <-time.After(tick):
			}
		}
	}
}

// stall never answers: no headers until the client gives up (or a minute
// passes, so that a broken client cannot hang the suite).
func stall() tamper {
	return func(_ http.ResponseWriter, r *http.Request, _ func() answer) {
		select {
		case <-r.Context().Done():
		case <-time.After(time.Minute):
		}
	}
}

// ctx is a test context bounded well below the suite's own limit.
func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}
