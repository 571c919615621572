package debtest

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Server serves files by path below its root with ETags (If-None-Match
// answers 304) and counts the requests per path. Tests change the files
// or put a Hook in front while it runs.
type Server struct {
	*httptest.Server
	mu    sync.Mutex
	files map[string][]byte
	hits  map[string]int
	hook  func(w http.ResponseWriter, r *http.Request, path string) bool
}

// Serve starts a server on 127.0.0.1 for files; t's cleanup stops it.
func Serve(t testing.TB, files map[string][]byte) *Server {
	t.Helper()
	s := &Server{files: map[string][]byte{}, hits: map[string]int{}}
	for p, b := range files {
		s.files[p] = b
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	p := strings.TrimPrefix(r.URL.Path, "/")
	s.mu.Lock()
	s.hits[p]++
	data, ok := s.files[p]
	hook := s.hook
	s.mu.Unlock()
	if hook != nil && hook(w, r, p) {
		return
	}
	if !ok {
		http.NotFound(w, r)
		return
	}
	etag := `"` + Sum(data)[:16] + `"`
	w.Header().Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.Write(data)
}

// SetHook puts fn in front of the files: when it returns true it has
// answered the request. nil removes it.
func (s *Server) SetHook(fn func(w http.ResponseWriter, r *http.Request, path string) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hook = fn
}

// SetFiles replaces all files.
func (s *Server) SetFiles(files map[string][]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files = map[string][]byte{}
	for p, b := range files {
		s.files[p] = b
	}
}

// Set replaces one file; nil data removes it.
func (s *Server) Set(path string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if data == nil {
		delete(s.files, path)
		return
	}
	s.files[path] = data
}

// File returns a served file.
func (s *Server) File(path string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.files[path]
}

// Hits returns the requests per path so far and resets the counts.
func (s *Server) Hits() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.hits
	s.hits = map[string]int{}
	return h
}
