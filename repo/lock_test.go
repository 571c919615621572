package repo

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func testPlan() *Plan {
	return &Plan{Family: FamilyDeb, Distro: "debian:12", Arch: "amd64", Variant: VariantBase,
		Indexes: []Index{{Name: "bookworm", URL: "http://example.invalid/debian", Digest: strings.Repeat("1", 64), Date: "2026-01-01T00:00:00Z"}},
		Packages: []Planned{
			{Name: "zlib1g", Version: "1:1.2.13", Arch: "amd64", Repository: "http://example.invalid/debian", Filename: "pool/main/z/zlib/zlib1g.deb", Size: 10, SHA256: strings.Repeat("a", 64), Reason: "requested"},
			{Name: "base-files", Version: "12.4", Arch: "amd64", Repository: "http://example.invalid/debian", Filename: "pool/main/b/base-files/base-files.deb", Size: 20, SHA256: strings.Repeat("b", 64), Reason: "variant base"},
		}}
}

func TestLockRoundTrip(t *testing.T) {
	l := NewLock(Request{Distro: "debian:12", Packages: []string{"zlib1g"}}, testPlan())
	if l.Packages[0].Name != "base-files" {
		t.Fatal("lock packages not sorted")
	}
	path := filepath.Join(t.TempDir(), "rootfs.lock")
	if err := WriteLock(path, l); err != nil {
		t.Fatal(err)
	}
	back, err := ReadLock(path)
	if err != nil {
		t.Fatal(err)
	}
	if back.Digest() != l.Digest() {
		t.Error("digest changed by a round trip")
	}
	a, _ := l.Marshal()
	b, _ := back.Marshal()
	if string(a) != string(b) {
		t.Error("encoding is not canonical")
	}
	// The digest depends on what decides the tree, not on reasons.
	c := NewLock(Request{}, testPlan())
	c.Packages[0].Reason = "something else"
	if c.Digest() != l.Digest() {
		t.Error("reason changed the digest")
	}
	c.Packages[0].SHA256 = strings.Repeat("c", 64)
	if c.Digest() == l.Digest() {
		t.Error("hash did not change the digest")
	}
}

func TestParseLockRejects(t *testing.T) {
	good, _ := NewLock(Request{}, testPlan()).Marshal()
	cases := map[string]string{
		"unknown field":  strings.Replace(string(good), `"lockVersion": 1,`, `"lockVersion": 1, "extra": true,`, 1),
		"version":        strings.Replace(string(good), `"lockVersion": 1`, `"lockVersion": 9`, 1),
		"dotdot":         strings.Replace(string(good), "pool/main/z/zlib/zlib1g.deb", "pool/../../etc/passwd", 1),
		"absolute":       strings.Replace(string(good), "pool/main/z/zlib/zlib1g.deb", "/etc/passwd", 1),
		"bad sha":        strings.Replace(string(good), strings.Repeat("a", 64), "abc", 1),
		"bad name":       strings.Replace(string(good), `"zlib1g"`, `"Zlib 1g"`, 1),
		"negative size":  strings.Replace(string(good), `"size": 10`, `"size": -1`, 1),
		"trailing":       string(good) + "{}",
		"not json":       "lock",
		"no packages":    `{"lockVersion":1,"request":{"distro":"","arch":"","packages":null,"variant":""},"family":"deb","distro":"d","arch":"a","variant":"base","indexes":[],"packages":[]}`,
		"duplicate name": strings.Replace(string(good), `"zlib1g"`, `"base-files"`, 1),
	}
	for name, data := range cases {
		if _, err := ParseLock([]byte(data)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := ParseLock(good); err != nil {
		t.Errorf("good lock rejected: %v", err)
	}
	big := filepath.Join(t.TempDir(), "big.lock")
	os.WriteFile(big, make([]byte, MaxLockSize+2), 0o644)
	if _, err := ReadLock(big); err == nil {
		t.Error("oversized lock accepted")
	}
}

func FuzzParseLock(f *testing.F) {
	good, _ := NewLock(Request{}, testPlan()).Marshal()
	f.Add(good)
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := ParseLock(data)
		if err != nil {
			return
		}
		for _, p := range l.Packages {
			if !safePath(p.Filename) {
				t.Fatalf("unsafe filename %q accepted", p.Filename)
			}
		}
	})
}

func FuzzParseDebSources(f *testing.F) {
	f.Add([]byte("deb [signed-by=/k] http://x.invalid/d s main\n"))
	f.Add([]byte("Types: deb\nURIs: http://x.invalid/d\nSuites: s\nComponents: main\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		srcs, err := ParseDebSources(data)
		if err != nil {
			return
		}
		for _, s := range srcs {
			if s.URL == "" {
				t.Fatal("source without URL")
			}
		}
	})
}
