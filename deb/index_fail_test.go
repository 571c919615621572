package deb

import (
	"bytes"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/rootfsd/rootfsd/deb/internal/debtest"
	"github.com/rootfsd/rootfsd/repo"
)

// TestFetchSuiteFailures covers each way a fetch must fail, with its own
// error, and shows that nothing from a failed fetch entered the cache: at
// most what verified before the failure, the InRelease and the untouched
// contrib index fetched beside main.
func TestFetchSuiteFailures(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(*debtest.Repo)
		tamper func(*fixture)
		// inReleaseOK: the InRelease verified, so the cache may hold it.
		inReleaseOK bool
		wantErr     error
		wantText    string
	}{
		{
			name: "one byte changed in InRelease",
			tamper: func(fx *fixture) {
				in := fx.srv.File(fx.path("InRelease"))
				fx.srv.Set(fx.path("InRelease"), bytes.Replace(in, []byte("Origin: Test"), []byte("Origin: Tesu"), 1))
			},
			wantErr: ErrSignature, wantText: "InRelease: no valid signature",
		},
		{
			name:    "signed by an untrusted key",
			edit:    func(r *debtest.Repo) { r.Signers = []*openpgp.Entity{testKeys().untrusted} },
			wantErr: ErrSignature, wantText: "signature made by unknown entity",
		},
		{
			name:    "unsigned Release only",
			edit:    func(r *debtest.Repo) { r.Signers = nil },
			wantErr: repo.ErrNotFound, wantText: "Release.gpg",
		},
		{
			name:    "Valid-Until in the past",
			edit:    func(r *debtest.Repo) { r.ValidUntil = repoDate.Add(12 * time.Hour) },
			wantErr: ErrExpired, wantText: "Valid-Until is past",
		},
		{
			name: "Date in the future",
			// Signed now, but claiming a Date an hour ahead of the clock.
			edit:    func(r *debtest.Repo) { r.DateField = testClock.Add(time.Hour).Format(time.RFC1123) },
			wantErr: ErrFutureDate, wantText: "dated in the future",
		},
		{
			name:    "suite mismatch",
			tamper:  func(fx *fixture) { fx.suite.Name = "testing"; copySuite(fx, "stable", "testing") },
			wantErr: ErrSuiteMismatch, wantText: `asked for "testing", Release says Suite "stable", Codename "trixie"`,
		},
		{
			name: "Packages hash mismatch",
			tamper: func(fx *fixture) {
				p, data := fx.packagesPath("main", ".gz")
				bad := bytes.Clone(data)
				bad[len(bad)/2] ^= 0xff
				fx.srv.Set(p, bad)
			},
			inReleaseOK: true, wantErr: ErrHashMismatch, wantText: "main/binary-amd64/Packages.gz: does not match the Release",
		},
		{
			name: "Packages.xz hash mismatch",
			edit: func(r *debtest.Repo) { r.Compressions = []string{".xz"}; r.ByHash = false },
			tamper: func(fx *fixture) {
				p, data := fx.packagesPath("main", ".xz")
				bad := bytes.Clone(data)
				bad[len(bad)/2] ^= 0xff
				fx.srv.Set(p, bad)
			},
			inReleaseOK: true, wantErr: ErrHashMismatch, wantText: "main/binary-amd64/Packages.xz: does not match the Release",
		},
		{
			name: "Packages size mismatch",
			tamper: func(fx *fixture) {
				p, data := fx.packagesPath("main", ".gz")
				fx.srv.Set(p, append(bytes.Clone(data), 0))
			},
			inReleaseOK: true, wantErr: repo.ErrSizeMismatch, wantText: "Content-Length",
		},
		{
			name: "truncated download",
			tamper: func(fx *fixture) {
				p, data := fx.packagesPath("main", ".gz")
				fx.srv.SetHook(func(w http.ResponseWriter, r *http.Request, path string) bool {
					if path != p {
						return false
					}
					w.Header().Set("Content-Length", strconv.Itoa(len(data)))
					w.Write(data[:len(data)/2])
					return true
				})
			},
			inReleaseOK: true, wantErr: repo.ErrTruncated, wantText: "truncated",
		},
		{
			name:        "oversized index",
			tamper:      func(fx *fixture) { fx.opt.MaxIndexSize = 1000 },
			inReleaseOK: true, wantErr: ErrIndexTooLarge, wantText: "at most 1000",
		},
		{
			name: "decompression bomb",
			edit: func(r *debtest.Repo) {
				r.NoPlainListed = true
				r.Packages["main"] = "Package: bomb\nDescription: x\n " + strings.Repeat("a", 4<<20) + "\n"
			},
			inReleaseOK: true, wantErr: ErrIndexTooLarge, wantText: "decompresses to more than",
		},
		{
			name:        "missing component",
			tamper:      func(fx *fixture) { fx.suite.Components = []string{"main", "non-free"} },
			inReleaseOK: true, wantErr: ErrMissingComponent, wantText: "lists no non-free/binary-amd64/Packages",
		},
		{
			name:        "architecture not served",
			tamper:      func(fx *fixture) { fx.suite.Arch = "riscv64" },
			inReleaseOK: true, wantErr: ErrMissingComponent, wantText: "architecture riscv64 is not served",
		},
		{
			name: "no InRelease, no Release",
			tamper: func(fx *fixture) {
				for _, f := range []string{"InRelease", "Release", "Release.gpg"} {
					fx.srv.Set(fx.path(f), nil)
				}
			},
			wantErr: repo.ErrNotFound, wantText: "404 Not Found",
		},
		{
			name: "Packages not served",
			tamper: func(fx *fixture) {
				fx.srv.SetHook(func(w http.ResponseWriter, r *http.Request, path string) bool {
					if strings.Contains(path, "/binary-amd64/") {
						http.NotFound(w, r)
						return true
					}
					return false
				})
			},
			inReleaseOK: true, wantErr: repo.ErrNotFound, wantText: "Packages",
		},
		{
			name: "server trickles bytes",
			tamper: func(fx *fixture) {
				fx.opt.Fetcher.Retries = 1
				data := fx.srv.File(fx.path("InRelease"))
				fx.srv.SetHook(func(w http.ResponseWriter, r *http.Request, path string) bool {
					w.Header().Set("Content-Length", strconv.Itoa(len(data)))
					for i := range data {
						if _, err := w.Write(data[i : i+1]); err != nil {
							return true
						}
						w.(http.Flusher).Flush()
						select {
						case <-r.Context().Done():
							return true
						case <-time.After(20 * time.Millisecond):
						}
					}
					return true
				})
			},
			wantErr: repo.ErrTooSlow, wantText: "transfer too slow",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := newFixture(t, tt.edit)
			if tt.tamper != nil {
				tt.tamper(fx)
			}
			start := time.Now()
			_, err := fx.fetch()
			if err == nil {
				t.Fatal("no error")
			}
			t.Log(err)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("error is not %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error does not say %q", tt.wantText)
			}
			if !strings.HasPrefix(err.Error(), "deb: "+fx.suite.Name) {
				t.Errorf("error does not name the suite")
			}
			allowed := map[string]bool{}
			if tt.inReleaseOK {
				allowed[debtest.Sum(fx.srv.File(fx.path("InRelease")))] = true
				allowed[debtest.Sum([]byte(fx.repo.Packages["contrib"]))] = true
			}
			for _, b := range fx.cache.Blobs() {
				if !allowed[b] {
					t.Errorf("cache holds %s after a failed fetch", b)
				}
			}
			if _, err := fx.cache.GetMeta(metaSuite, fx.suite.DistURL()); err == nil {
				t.Error("a failed fetch recorded the suite")
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

// copySuite serves the files of dists/from also below dists/to.
func copySuite(fx *fixture, from, to string) {
	for p, b := range fx.repo.Build(fx.t) {
		fx.srv.Set("debian/"+strings.Replace(p, "dists/"+from+"/", "dists/"+to+"/", 1), b)
	}
}

func TestFetchSuiteRollback(t *testing.T) {
	fx := newFixture(t, nil)
	old := fx.srv.File(fx.path("InRelease"))
	fx.repo.Date = repoDate.Add(time.Hour)
	fx.rebuild()
	x, err := fx.fetch()
	if err != nil {
		t.Fatal(err)
	}
	blobs := fx.cache.Blobs()
	// A mirror replays the older, validly signed InRelease.
	fx.srv.Set(fx.path("InRelease"), old)
	_, err = fx.fetch()
	if !errors.Is(err, ErrRollback) {
		t.Fatalf("replayed older InRelease: %v", err)
	}
	if !strings.Contains(err.Error(), "rollback") {
		t.Errorf("error %q does not say rollback", err)
	}
	if got := fx.cache.Blobs(); len(got) != len(blobs) {
		t.Errorf("cache went from %d to %d blobs", len(blobs), len(got))
	}
	// The record still names the newer InRelease: offline use keeps it.
	fx.opt.Offline = true
	y, err := fx.fetch()
	if err != nil || y.InReleaseSHA256 != x.InReleaseSHA256 {
		t.Errorf("offline after the rollback attempt: %v", err)
	}
}

func TestFetchSuiteDateTolerance(t *testing.T) {
	// Ubuntu's loose date, a few minutes ahead of the clock: accepted.
	fx := newFixture(t, func(r *debtest.Repo) {
		r.DateField = "Sat, 3 Jan 2026  0:05:00 UTC"
	})
	x, err := fx.fetch()
	if err != nil {
		t.Fatal(err)
	}
	if !x.Date.Equal(testClock.Add(5 * time.Minute)) {
		t.Errorf("Date %v", x.Date)
	}
}
