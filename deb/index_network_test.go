//go:build network

package deb

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/rootfsd/rootfsd/deb/internal/debtest"
	"github.com/rootfsd/rootfsd/repo"
)

// TestFetchSuiteNetwork fetches real suites from the mirrors the host
// names (its apt sources, debootstrap's scripts) or ROOTFSD_MIRROR and
// ROOTFSD_SECURITY_MIRROR. Run explicitly:
//
//	go test -tags network -run Network -v ./deb/
func TestFetchSuiteNetwork(t *testing.T) {
	for _, name := range []string{"ubuntu:24.04", "debian:12"} {
		t.Run(name, func(t *testing.T) {
			d, err := repo.LookupDistro(name)
			if err != nil {
				t.Fatal(err)
			}
			m, err := repo.Mirrors{Mirror: os.Getenv("ROOTFSD_MIRROR"), SecurityMirror: os.Getenv("ROOTFSD_SECURITY_MIRROR")}.Resolve(d, "amd64")
			if err != nil {
				t.Skip(err)
			}
			kr, err := Keyring(d.Keyring)
			if err != nil {
				t.Fatal(err)
			}
			cache := debtest.NewCache(t)
			opt := FetchOptions{Cache: cache, Fetcher: &repo.Fetcher{}}
			for _, p := range d.Pockets {
				url := m.Mirror
				if p.Security && m.SecurityMirror != "" {
					url = m.SecurityMirror
				}
				s := Suite{URL: url, Name: p.Suite, Components: d.Components, Arch: "amd64", Keyring: kr}
				for _, run := range []string{"cold", "warm"} {
					start := time.Now()
					x, err := FetchSuite(context.Background(), s, opt)
					if err != nil {
						t.Fatal(err)
					}
					var size int64
					for _, f := range x.Files {
						size += f.Size
					}
					t.Logf("%s %s: %v, %d components, %d MB uncompressed, Date %v, age %v",
						p.Suite, run, time.Since(start).Round(time.Millisecond), len(x.Files), size>>20, x.Date, x.Age.Round(time.Hour))
				}
			}
		})
	}
}
