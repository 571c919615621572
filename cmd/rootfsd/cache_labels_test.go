package main

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rootfsd/rootfsd/api"
)

// TestCacheListsKinds: after a Debian build every blob the cache holds
// says what it is in cache ls and du (packages by file name, the signed
// and the decoded indexes, the index tables, the decoded data.tars and the
// layer), none of them "other".
func TestCacheListsKinds(t *testing.T) {
	g, _, _ := debCacheArchive(t)
	dir := t.TempDir()
	cache := []string{"--cache-dir", filepath.Join(dir, "cache"), "--daemon", "never"}
	cli := func(args ...string) string {
		t.Helper()
		out, stderr, code := runCLI(t, append(append(append([]string{}, g...), cache...), args...)...)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", strings.Join(args, " "), code, stderr)
		}
		return out
	}
	cli("build", "--distro", "debian:12", "--variant", "custom", "--pkgs", "hello", "--output", "tar:"+filepath.Join(dir, "out.tar"))
	var blobs []api.Blob
	if err := json.Unmarshal([]byte(cli("cache", "ls", "--format", "json")), &blobs); err != nil {
		t.Fatal(err)
	}
	byKind := map[string][]string{}
	for _, b := range blobs {
		if b.Kind == "" || b.Name == "" {
			t.Errorf("blob %.12s (%d bytes) has kind %q, name %q", b.Digest, b.Size, b.Kind, b.Name)
		}
		byKind[b.Kind] = append(byKind[b.Kind], b.Name)
	}
	for kind, want := range map[string][]string{
		"package":  {"hello_1.0-1_amd64.deb", "libc6_2.36-9_amd64.deb"},
		"unpacked": {"hello_1.0-1_amd64 data.tar", "libc6_2.36-9_amd64 data.tar"},
		"index":    {"bookworm InRelease", "bookworm/main Packages (table)"},
	} {
		for _, name := range want {
			if !slices.Contains(byKind[kind], name) {
				t.Errorf("no %s blob named %q; %s: %q", kind, name, kind, byKind[kind])
			}
		}
	}
	if len(byKind["layer"]) != 1 {
		t.Errorf("layers: %q", byKind["layer"])
	}
	du := cli("cache", "du")
	for _, kind := range []string{"package", "unpacked", "index", "layer"} {
		if !strings.Contains(du, "  "+kind+" ") {
			t.Errorf("cache du does not list %s:\n%s", kind, du)
		}
	}
	if strings.Contains(du, "other") {
		t.Errorf("cache du lists unlabelled blobs:\n%s", du)
	}
}
