package remote_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rootfsd/rootfsd/store/remote"
	"github.com/rootfsd/rootfsd/store/remote/registrytest"
)

func TestParseRef(t *testing.T) {
	tests := []struct {
		ref, host, repo string
		bad             bool
	}{
		{ref: "oci://127.0.0.1:5000/ci/cache", host: "127.0.0.1:5000", repo: "ci/cache"},
		{ref: "oci://registry.example/cache", host: "registry.example", repo: "cache"},
		{ref: "docker://registry.example/cache", bad: true},
		{ref: "oci://registry.example", bad: true},
		{ref: "oci://registry.example/cache:tag", bad: true},
		{ref: "oci:///cache", bad: true},
	}
	for _, tt := range tests {
		host, repo, err := remote.ParseRef(tt.ref)
		if (err != nil) != tt.bad {
			t.Errorf("ParseRef(%q) error %v, want error %v", tt.ref, err, tt.bad)
			continue
		}
		if diff := cmp.Diff([]string{tt.host, tt.repo}, []string{host, repo}); !tt.bad && diff != "" {
			t.Errorf("ParseRef(%q) (-want +got):\n%s", tt.ref, diff)
		}
	}
}

func TestPlainHTTPLoopbackOnly(t *testing.T) {
	for ref, ok := range map[string]bool{
		"oci://127.0.0.1:5000/c": true, "oci://localhost:5000/c": true, "oci://[::1]:5000/c": true,
		"oci://10.0.0.1:5000/c": false, "oci://registry.example/c": false,
	} {
		_, err := remote.New(ref, remote.Options{PlainHTTP: true, AuthFiles: []string{}})
		if (err == nil) != ok {
			t.Errorf("New(%q, plain HTTP): error %v, want allowed=%v", ref, err, ok)
		}
	}
}

func TestTags(t *testing.T) {
	sum := strings.Repeat("ab", 32)
	if tag, err := remote.LayerTag(sum); err != nil || tag != "layer-"+sum {
		t.Errorf("LayerTag = %q, %v", tag, err)
	}
	if tag, err := remote.PackageTag(sum); err != nil || tag != "pkg-"+sum {
		t.Errorf("PackageTag = %q, %v", tag, err)
	}
	for _, bad := range []string{"", "../x", strings.Repeat("AB", 32), sum + "0"} {
		if _, err := remote.PackageTag(bad); err == nil {
			t.Errorf("PackageTag(%q) accepted", bad)
		}
	}
}

func entryOf(b []byte) remote.Entry {
	s := sha256.Sum256(b)
	return remote.Entry{Digest: "sha256:" + hex.EncodeToString(s[:]), Size: int64(len(b)), MediaType: "application/vnd.oci.image.layer.v1.tar"}
}

func TestPushPullRegistry(t *testing.T) {
	reg := registrytest.Start(t)
	ctx := context.Background()
	c, err := remote.New("oci://"+reg.Host+"/ci/cache", remote.Options{PlainHTTP: true, AuthFiles: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	blob := bytes.Repeat([]byte("rootfsd layer "), 1000)
	e := entryOf(blob)
	tag, _ := remote.LayerTag(strings.Repeat("01", 32))
	if _, _, err := c.Pull(ctx, tag, 1<<20); !errors.Is(err, remote.ErrNotFound) {
		t.Fatalf("pull before push: %v, want ErrNotFound", err)
	}
	opens := 0
	open := func() (io.ReadCloser, error) { opens++; return io.NopCloser(bytes.NewReader(blob)), nil }
	if err := c.Push(ctx, tag, e, open); err != nil {
		t.Fatal(err)
	}
	tag2, _ := remote.PackageTag(strings.Repeat("02", 32))
	if err := c.Push(ctx, tag2, e, open); err != nil { // same blob again: not uploaded twice
		t.Fatal(err)
	}
	if opens != 1 {
		t.Errorf("blob opened %d times, want 1 (the registry had it)", opens)
	}
	if ok, err := c.Has(ctx, tag); !ok || err != nil {
		t.Errorf("Has = %v, %v", ok, err)
	}
	got, rc, err := c.Pull(ctx, tag, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(e, got); diff != "" {
		t.Errorf("entry (-want +got):\n%s", diff)
	}
	if !bytes.Equal(data, blob) {
		t.Error("pulled blob differs")
	}
	if _, _, err := c.Pull(ctx, tag, 100); err == nil {
		t.Error("a blob over the size limit was accepted")
	}
}

func TestPullServerError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	}))
	defer srv.Close()
	c, err := remote.New("oci://"+strings.TrimPrefix(srv.URL, "http://")+"/c", remote.Options{PlainHTTP: true, AuthFiles: []string{}, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	tag, _ := remote.LayerTag(strings.Repeat("01", 32))
	_, _, err = c.Pull(context.Background(), tag, 1<<20)
	if err == nil || errors.Is(err, remote.ErrNotFound) {
		t.Fatalf("pull from a failing registry: %v, want an error other than not found", err)
	}
}

func TestPullTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	c, err := remote.New("oci://"+strings.TrimPrefix(srv.URL, "http://")+"/c", remote.Options{PlainHTTP: true, AuthFiles: []string{}, Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	tag, _ := remote.LayerTag(strings.Repeat("01", 32))
	t0 := time.Now()
	if _, _, err := c.Pull(context.Background(), tag, 1<<20); err == nil {
		t.Fatal("pull from a hanging registry succeeded")
	}
	if d := time.Since(t0); d > 5*time.Second {
		t.Errorf("timeout took %v", d)
	}
}

func TestGzipTag(t *testing.T) {
	d := strings.Repeat("ab", 32)
	if tag, err := remote.GzipTag(6, d); err != nil || tag != "gzip6-"+d {
		t.Errorf("remote.GzipTag(6) = %q, %v", tag, err)
	}
	for _, bad := range []struct {
		level int
		d     string
	}{{6, "xyz"}, {10, d}, {-1, d}, {6, strings.ToUpper(d)}} {
		if _, err := remote.GzipTag(bad.level, bad.d); err == nil {
			t.Errorf("remote.GzipTag(%d, %q) accepted", bad.level, bad.d)
		}
	}
}
