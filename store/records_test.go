package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rootfsd/rootfsd/repo"
)

func TestPackageKey(t *testing.T) {
	base := repo.Planned{Name: "libc6", Version: "2.39-0ubuntu8", Arch: "amd64", Repository: "http://mirror.invalid/ubuntu", Filename: "pool/main/g/glibc/libc6_2.39-0ubuntu8_amd64.deb"}
	withSHA, withC := base, base
	withSHA.SHA256 = strings.Repeat("ab", 32)
	withC.Checksum = "Q1abc="
	tests := []struct {
		p    repo.Planned
		want string
	}{
		{withSHA, "libc6=2.39-0ubuntu8/amd64@sha256:" + strings.Repeat("ab", 32)},
		{withC, "libc6=2.39-0ubuntu8/amd64@Q1abc="},
		{base, "libc6=2.39-0ubuntu8/amd64@http://mirror.invalid/ubuntu/pool/main/g/glibc/libc6_2.39-0ubuntu8_amd64.deb"},
	}
	for _, tt := range tests {
		if got := PackageKey(tt.p); got != tt.want {
			t.Errorf("PackageKey = %q, want %q", got, tt.want)
		}
	}
}

func TestRecords(t *testing.T) {
	ctx := context.Background()
	clock := newClock()
	s := newStore(t, Options{Now: clock.Now})
	data := content(8, 1234)
	d, _, err := s.Put(ctx, bytes.NewReader(data), "", -1)
	if err != nil {
		t.Fatal(err)
	}
	p := repo.Planned{Name: "busybox", Version: "1.36.1-r15", Arch: "x86_64", Checksum: "Q1xyz=", Size: 1234, Filename: "busybox-1.36.1-r15.apk"}
	pr := NewPackageRecord(p, "sha256:"+strings.ToUpper(d))
	if err := s.SetPackage(ctx, pr); err != nil {
		t.Fatal(err)
	}
	want := PackageRecord{Key: PackageKey(p), Digest: d, Size: 1234, Name: "busybox", Version: "1.36.1-r15", Arch: "x86_64", Filename: "busybox-1.36.1-r15.apk", Added: clock.Now()}
	got, err := s.Package(ctx, PackageKey(p))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Package (-want +got):\n%s", diff)
	}
	if err := s.SetIndex(ctx, IndexRecord{Key: "idx", Digest: d, Name: "v3.19/main", Date: "x"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetLayer(ctx, LayerRecord{Key: "plan", Digest: d, DiffID: d, MediaType: "application/vnd.oci.image.layer.v1.tar"}); err != nil {
		t.Fatal(err)
	}
	idx, err := s.Indexes(ctx)
	if err != nil || len(idx) != 1 || idx[0].Fetched != clock.Now() {
		t.Errorf("Indexes = %+v, %v", idx, err)
	}
	if l, err := s.Layer(ctx, "plan"); err != nil || l.Digest != d {
		t.Errorf("Layer = %+v, %v", l, err)
	}

	// Records of missing blobs are refused, and lookups notice a blob gone.
	if err := s.SetLayer(ctx, LayerRecord{Key: "other", Digest: digestOf(nil)}); !errors.Is(err, repo.ErrNotCached) {
		t.Errorf("SetLayer of an absent blob: %v", err)
	}
	if _, err := s.Package(ctx, "nope"); !errors.Is(err, repo.ErrNotCached) {
		t.Errorf("Package of an unknown key: %v", err)
	}
	if err := os.Remove(s.Path(d)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Index(ctx, "idx"); !errors.Is(err, repo.ErrNotCached) {
		t.Errorf("Index whose blob is gone: %v", err)
	}
	if err := s.DeleteRecord(ctx, "layers", "plan"); err != nil {
		t.Fatal(err)
	}
	if ls, err := s.Layers(ctx); err != nil || len(ls) != 0 {
		t.Errorf("Layers after DeleteRecord = %v, %v", ls, err)
	}
	if err := s.DeleteRecord(ctx, "blobs", "x"); !errors.Is(err, ErrInvalid) {
		t.Errorf("DeleteRecord of an unknown kind: %v", err)
	}
}

func TestMeta(t *testing.T) {
	s := newStore(t, Options{})
	if _, err := s.GetMeta("etag", "a"); !errors.Is(err, repo.ErrNotCached) {
		t.Errorf("GetMeta of a missing key: %v", err)
	}
	if err := s.SetMeta("etag", "a", []byte(`"abc"`)); err != nil {
		t.Fatal(err)
	}
	if err := s.SetMeta("etag", "empty", nil); err != nil {
		t.Fatal(err)
	}
	if v, err := s.GetMeta("etag", "a"); err != nil || string(v) != `"abc"` {
		t.Errorf("GetMeta = %q, %v", v, err)
	}
	if v, err := s.GetMeta("etag", "empty"); err != nil || len(v) != 0 {
		t.Errorf("GetMeta of an empty value = %q, %v", v, err)
	}
	if _, err := s.GetMeta("other", "a"); !errors.Is(err, repo.ErrNotCached) {
		t.Errorf("namespaces are not separate: %v", err)
	}
	if err := s.DeleteMeta(context.Background(), "etag", "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetMeta("etag", "a"); !errors.Is(err, repo.ErrNotCached) {
		t.Errorf("GetMeta after DeleteMeta: %v", err)
	}
	for _, bad := range []struct{ ns, key string }{{"", "k"}, {"ns", ""}, {"ns", "a\x00b"}, {"ns", strings.Repeat("k", 2000)}} {
		if err := s.SetMeta(bad.ns, bad.key, nil); !errors.Is(err, ErrInvalid) {
			t.Errorf("SetMeta(%q, %q): %v, want ErrInvalid", bad.ns, clip(bad.key), err)
		}
	}
	if err := s.SetMeta("ns", "big", make([]byte, maxMetaValue+1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("SetMeta of a large value: %v", err)
	}
}
