package deb

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/rootfsd/rootfsd/deb/internal/debtest"
)

func TestFetchSuite(t *testing.T) {
	fx := newFixture(t, nil)
	x, err := fx.fetch()
	if err != nil {
		t.Fatal(err)
	}
	main, contrib := []byte(fx.repo.Packages["main"]), []byte(fx.repo.Packages["contrib"])
	want := &SuiteIndex{
		Suite: "stable", URL: fx.srv.URL + "/debian", InReleaseSHA256: debtest.Sum(fx.srv.File(fx.path("InRelease"))),
		Date: repoDate, Verified: testClock, Age: 24 * time.Hour,
		Files: []PackagesFile{
			{Component: "main", Path: "main/binary-amd64/Packages", Digest: debtest.Sum(main), Size: int64(len(main))},
			{Component: "contrib", Path: "contrib/binary-amd64/Packages", Digest: debtest.Sum(contrib), Size: int64(len(contrib))},
		},
	}
	if d := cmp.Diff(want, x, cmpopts.IgnoreFields(SuiteIndex{}, "Release")); d != "" {
		t.Errorf("index (-want +got):\n%s", d)
	}
	if x.Release.Codename != "trixie" || !x.Release.AcquireByHash {
		t.Errorf("release %+v", x.Release)
	}
	// What the cache holds is exactly the InRelease and the uncompressed
	// Packages, readable through the cache.
	wantBlobs := []string{x.InReleaseSHA256, debtest.Sum(main), debtest.Sum(contrib)}
	if d := cmp.Diff(wantBlobs, fx.cache.Blobs(), cmpopts.SortSlices(func(a, b string) bool { return a < b })); d != "" {
		t.Errorf("cache blobs (-want +got):\n%s", d)
	}
	rc, err := fx.cache.Open(context.Background(), x.Files[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || string(got) != string(main) {
		t.Errorf("cached main Packages differs (%v)", err)
	}
	// gzip is preferred, fetched by hash; xz is never touched.
	hits := fx.srv.Hits()
	for p, n := range hits {
		if !strings.HasPrefix(p, "debian/dists/stable/") || n != 1 {
			t.Errorf("request %s %d times", p, n)
		}
		if strings.HasSuffix(p, ".xz") || (strings.Contains(p, "/binary-amd64/") && !strings.Contains(p, "/by-hash/SHA256/")) {
			t.Errorf("requested %s", p)
		}
	}
	if len(hits) != 3 {
		t.Errorf("requests: %v, want InRelease and two by-hash Packages.gz", hits)
	}
}

func TestFetchSuiteConditional(t *testing.T) {
	fx := newFixture(t, nil)
	first, err := fx.fetch()
	if err != nil {
		t.Fatal(err)
	}
	fx.srv.Hits()
	// Second run: one conditional request for InRelease (answered 304),
	// no index downloaded.
	second, err := fx.fetch()
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[string]int{fx.path("InRelease"): 1}, fx.srv.Hits()); d != "" {
		t.Errorf("second run requests (-want +got):\n%s", d)
	}
	for _, f := range second.Files {
		if !f.Cached {
			t.Errorf("%s downloaded again", f.Path)
		}
	}
	if second.InReleaseSHA256 != first.InReleaseSHA256 {
		t.Error("InRelease digest changed")
	}

	// The archive moves on: a newer InRelease with a changed main.
	fx.repo.Date = repoDate.Add(time.Hour)
	fx.repo.Packages["main"] += "Package: new\nVersion: 1\nArchitecture: all\n\n"
	fx.rebuild()
	third, err := fx.fetch()
	if err != nil {
		t.Fatal(err)
	}
	hits := fx.srv.Hits()
	if len(hits) != 2 || hits[fx.path("InRelease")] != 1 {
		t.Errorf("third run requests %v, want InRelease and main's Packages", hits)
	}
	if !third.Files[1].Cached || third.Files[0].Cached || third.Files[0].Digest == first.Files[0].Digest {
		t.Errorf("third run files %+v", third.Files)
	}
	if !third.Date.Equal(fx.repo.Date) {
		t.Errorf("date %v", third.Date)
	}
}

func TestFetchSuiteCompressions(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(*debtest.Repo)
		remove []string // served files to delete, below the suite
		want   string   // the one Packages request for main, below the suite
	}{
		{
			// Release lists .gz (and plain); the mirror serves only .xz.
			name: "gz missing: xz",
			edit: func(r *debtest.Repo) { r.Compressions = []string{".xz"}; r.ByHash = false },
			want: "main/binary-amd64/Packages.xz",
		},
		{
			name: "uncompressed only",
			edit: func(r *debtest.Repo) { r.Compressions = []string{""}; r.ByHash = false },
			want: "main/binary-amd64/Packages",
		},
		{
			name: "no uncompressed digest in Release",
			edit: func(r *debtest.Repo) { r.Compressions = []string{".xz"}; r.ByHash = false; r.NoPlainListed = true },
			want: "main/binary-amd64/Packages.xz",
		},
		{
			name:   "by-hash missing: plain path",
			remove: []string{"main/binary-amd64/by-hash/SHA256/"},
			want:   "main/binary-amd64/Packages.gz",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := newFixture(t, tt.edit)
			fx.suite.Components = []string{"main"}
			for _, prefix := range tt.remove {
				for p := range fx.repo.Build(t) {
					if strings.HasPrefix(p, fx.repo.Dist()+prefix) {
						fx.srv.Set("debian/"+p, nil)
					}
				}
			}
			x, err := fx.fetch()
			if err != nil {
				t.Fatal(err)
			}
			if x.Files[0].Digest != debtest.Sum([]byte(fx.repo.Packages["main"])) {
				t.Error("wrong digest")
			}
			hits := fx.srv.Hits()
			if hits[fx.path(tt.want)] != 1 {
				t.Errorf("requests %v, want one of %s", hits, tt.want)
			}
		})
	}
}

func TestFetchSuiteDetachedRelease(t *testing.T) {
	fx := newFixture(t, func(r *debtest.Repo) { r.NoInRelease = true })
	x, err := fx.fetch()
	if err != nil {
		t.Fatal(err)
	}
	if x.InReleaseSHA256 != debtest.Sum(fx.srv.File(fx.path("Release"))) {
		t.Error("digest is not the Release's")
	}
	// Offline works from the recorded Release and its signature.
	fx.srv.Close()
	fx.opt.Offline = true
	y, err := fx.fetch()
	if err != nil {
		t.Fatal(err)
	}
	if !y.Offline || y.InReleaseSHA256 != x.InReleaseSHA256 {
		t.Errorf("offline index %+v", y)
	}
}

func TestFetchSuiteOffline(t *testing.T) {
	fx := newFixture(t, nil)
	fx.opt.Offline = true
	if _, err := fx.fetch(); err == nil || !strings.Contains(err.Error(), "holds no verified InRelease") {
		t.Fatalf("offline with an empty cache: %v", err)
	}
	fx.opt.Offline = false
	online, err := fx.fetch()
	if err != nil {
		t.Fatal(err)
	}
	fx.srv.Hits()
	later := testClock.Add(72 * time.Hour)
	fx.opt.Offline = true
	fx.opt.Now = func() time.Time { return later }
	x, err := fx.fetch()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(fx.srv.Hits()); n != 0 {
		t.Errorf("%d requests offline", n)
	}
	if !x.Offline || x.Age != later.Sub(repoDate) || !x.Verified.Equal(testClock) {
		t.Errorf("offline: Offline %v, Age %v, Verified %v", x.Offline, x.Age, x.Verified)
	}
	if d := cmp.Diff(online.Files, x.Files, cmpopts.IgnoreFields(PackagesFile{}, "Cached")); d != "" {
		t.Errorf("files (-online +offline):\n%s", d)
	}
	for _, f := range x.Files {
		if !f.Cached {
			t.Errorf("offline %s not from the cache", f.Path)
		}
	}
}
