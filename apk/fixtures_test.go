package apk

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/rootfsd/rootfsd/apk/apktest"
)

// fixturesDir is the shared Alpine fixtures directory (see apktest.Dir).
func fixturesDir(t testing.TB) string { return apktest.FixturesDir(t) }

func fixture(t testing.TB, rel string) string {
	return filepath.Join(fixturesDir(t), filepath.FromSlash(rel))
}

func readFixture(t testing.TB, rel string) []byte {
	t.Helper()
	data, err := os.ReadFile(fixture(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// indexCache keeps parsed fixture indexes across tests of one run: the
// community index takes a noticeable fraction of a second to verify and
// parse.
type indexCache struct {
	mu sync.Mutex
	m  map[string]*Index
}

var fixtureIndexes = indexCache{m: map[string]*Index{}}

// fixtureIndex reads "v3.19/main/x86_64" and the like, verified with every
// embedded key.
func fixtureIndex(t testing.TB, rel string) *Index {
	t.Helper()
	fixtureIndexes.mu.Lock()
	defer fixtureIndexes.mu.Unlock()
	if idx, ok := fixtureIndexes.m[rel]; ok {
		return idx
	}
	idx, err := ReadIndex(readFixture(t, rel+"/APKINDEX.tar.gz"), AllKeys(), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	fixtureIndexes.m[rel] = idx
	return idx
}

// serveFixtures serves the fixtures directory on 127.0.0.1.
func serveFixtures(t testing.TB) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.FileServer(http.Dir(fixturesDir(t))))
	t.Cleanup(srv.Close)
	return srv
}
