package apk

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/rootfsd/rootfsd/repo"
	"github.com/rootfsd/rootfsd/repo/fstree"
	"github.com/rootfsd/rootfsd/repo/repotest"
)

// BenchmarkParseIndex parses the 7.6 MB APKINDEX text of v3.19 community
// (17587 records); the goal is at least 150 MB/s.
func BenchmarkParseIndex(b *testing.B) {
	text := []byte(indexText(b, "v3.19/community/x86_64"))
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseIndex(text, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadIndex adds signature verification and decompression of the
// 1.7 MB APKINDEX.tar.gz; bytes are those of the compressed file.
func BenchmarkReadIndex(b *testing.B) {
	data := readFixture(b, "v3.19/community/x86_64/APKINDEX.tar.gz")
	keys := AllKeys()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ReadIndex(data, keys, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkResolve indexes v3.19 main and community (23030 records) and
// resolves neovim over them.
func BenchmarkResolve(b *testing.B) {
	repos := fixtureRepos(b, "v3.19/main/x86_64", "v3.19/community/x86_64")
	b.ReportAllocs()
	for b.Loop() {
		r, err := NewResolver(repos)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := r.Resolve(goals("neovim", "alpine-base")); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyPackage streams the 1.7 MB libcrypto3 package through
// every check; bytes are the .apk's.
func BenchmarkVerifyPackage(b *testing.B) {
	data := readFixture(b, "v3.19.1-iso/apks/x86_64/libcrypto3-3.1.4-r5.apk")
	keys := AllKeys()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := VerifyPackage(context.Background(), bytes.NewReader(data), keys, Expect{}, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBackendAlpineBase resolves alpine-base (25 packages, 3.6 MB)
// over HTTP from the ISO repository and installs it into a tree, cold: a
// new cache every time.
func BenchmarkBackendAlpineBase(b *testing.B) {
	srv := httptest.NewServer(http.FileServer(http.Dir(fixturesDir(b))))
	defer srv.Close()
	req := repo.Request{Packages: []string{"alpine-base"}, Variant: repo.VariantCustom}
	for b.Loop() {
		be := testBackend(srv, repotest.NewMemCache(), "v3.19.1-iso/apks")
		plan, err := be.Resolve(context.Background(), req)
		if err != nil {
			b.Fatal(err)
		}
		tree := fstree.New(fstree.Options{TempDir: b.TempDir()})
		if _, err := be.Install(context.Background(), req, plan, tree); err != nil {
			b.Fatal(err)
		}
		tree.Close()
	}
}
