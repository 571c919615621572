package deb

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const hashA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

func TestParseRelease(t *testing.T) {
	in := `Origin: Ubuntu
Label: Ubuntu
Suite: noble-security
Version: 24.04
Codename: noble
Date: Sat, 21 Nov 2026  0:45:27 UTC
Valid-Until: Sat, 28 Nov 2026 00:45:27 +0000
Architectures: amd64 i386
Components: main restricted
Description: Ubuntu Noble 24.04
Acquire-By-Hash: yes
MD5Sum:
 d41d8cd98f00b204e9800998ecf8427e 0 main/binary-amd64/Packages
SHA256:
 ` + hashA + `      1234 main/binary-amd64/Packages
 ` + strings.ToUpper(hashA) + ` 99 main/binary-amd64/Packages.gz
`
	got, err := ParseRelease([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := &Release{
		Origin: "Ubuntu", Label: "Ubuntu", Suite: "noble-security", Codename: "noble", Version: "24.04",
		Date:          time.Date(2026, 11, 21, 0, 45, 27, 0, time.UTC),
		ValidUntil:    time.Date(2026, 11, 28, 0, 45, 27, 0, time.UTC),
		Architectures: []string{"amd64", "i386"},
		Components:    []string{"main", "restricted"},
		AcquireByHash: true,
		Files: map[string]ReleaseFile{
			"main/binary-amd64/Packages":    {Path: "main/binary-amd64/Packages", Size: 1234, SHA256: hashA},
			"main/binary-amd64/Packages.gz": {Path: "main/binary-amd64/Packages.gz", Size: 99, SHA256: hashA},
		},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Release (-want +got):\n%s", d)
	}
}

func TestParseReleaseErrors(t *testing.T) {
	base := "Suite: s\nDate: Sat, 21 Nov 2026 00:45:27 UTC\n"
	tests := []struct{ name, in, want string }{
		{"empty", "", "empty"},
		{"no date", "Suite: s\nSHA256:\n " + hashA + " 1 a\n", "Date: missing"},
		{"bad date", "Date: yesterday\nSHA256:\n", "not an RFC 1123 date"},
		{"local zone", "Date: Sat, 21 Nov 2026 00:45:27 CET\nSHA256:\n", "is not UTC"},
		{"bad valid-until", base + "Valid-Until: soon\nSHA256:\n", "Valid-Until"},
		{"no SHA256", base + "MD5Sum:\n d41d8cd98f00b204e9800998ecf8427e 0 a\n", "no SHA256"},
		{"short hash", base + "SHA256:\n abc 1 a\n", "bad hash"},
		{"bad size", base + "SHA256:\n " + hashA + " -1 a\n", "bad size"},
		{"two fields", base + "SHA256:\n " + hashA + " 1\n", "want \"hash size path\""},
		{"parent path", base + "SHA256:\n " + hashA + " 1 main/../../etc\n", "bad path"},
		{"absolute path", base + "SHA256:\n " + hashA + " 1 /etc/passwd\n", "bad path"},
		{"conflicting duplicate", base + "SHA256:\n " + hashA + " 1 a\n " + hashA + " 2 a\n", "listed twice"},
		{"two paragraphs", base + "SHA256:\n " + hashA + " 1 a\n\nSuite: t\n", "more than one paragraph"},
	}
	for _, tt := range tests {
		_, err := ParseRelease([]byte(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestParseDate(t *testing.T) {
	want := time.Date(2026, 11, 21, 0, 45, 27, 0, time.UTC)
	for _, in := range []string{
		"Sat, 21 Nov 2026 00:45:27 UTC",
		"Sat, 21 Nov 2026  0:45:27 UTC", // Ubuntu
		"Sat,  21 Nov 2026 00:45:27   UTC ",
		"Sat, 21 Nov 2026 00:45:27 GMT",
		"Sat, 21 Nov 2026 00:45:27 +0000",
		"Sat, 21 Nov 2026 01:45:27 +0100",
		"21 Nov 2026 00:45:27 UTC",
	} {
		got, err := ParseDate(in)
		if err != nil || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("ParseDate(%q) = %v, %v", in, got, err)
		}
	}
	if got, err := ParseDate("Sat, 3 Jan 2026 0:05:00 UTC"); err != nil || got.Day() != 3 || got.Minute() != 5 {
		t.Errorf("single-digit day and hour: %v, %v", got, err)
	}
	for _, in := range []string{"", "2026-11-21T00:45:27Z", "Sat, 21 Nov 2026 00:45:27 PST", "Sat, 32 Nov 2026 00:45:27 UTC"} {
		if _, err := ParseDate(in); err == nil {
			t.Errorf("ParseDate(%q) accepted", in)
		}
	}
}

func TestReleaseCheck(t *testing.T) {
	date := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	r := &Release{Suite: "oldstable-security", Codename: "bookworm-security", Date: date, ValidUntil: date.Add(7 * 24 * time.Hour)}
	tests := []struct {
		name string
		c    ReleaseCheck
		want error
	}{
		{"by codename", ReleaseCheck{Suite: "bookworm-security", Now: date.Add(time.Hour)}, nil},
		{"by suite", ReleaseCheck{Suite: "oldstable-security", Now: date.Add(time.Hour)}, nil},
		{"other suite", ReleaseCheck{Suite: "bookworm", Now: date.Add(time.Hour)}, ErrSuiteMismatch},
		{"expired", ReleaseCheck{Suite: "bookworm-security", Now: date.Add(8 * 24 * time.Hour)}, ErrExpired},
		{"date 5 min ahead", ReleaseCheck{Suite: "bookworm-security", Now: date.Add(-5 * time.Minute)}, nil},
		{"date 11 min ahead", ReleaseCheck{Suite: "bookworm-security", Now: date.Add(-11 * time.Minute)}, ErrFutureDate},
		{"custom tolerance", ReleaseCheck{Suite: "bookworm-security", Now: date.Add(-11 * time.Minute), MaxFuture: time.Hour}, nil},
		{"same date as seen", ReleaseCheck{Suite: "bookworm-security", Now: date.Add(time.Hour), NotBefore: date}, nil},
		{"older than seen", ReleaseCheck{Suite: "bookworm-security", Now: date.Add(time.Hour), NotBefore: date.Add(time.Second)}, ErrRollback},
	}
	for _, tt := range tests {
		if err := r.Check(tt.c); !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
}

func FuzzParseRelease(f *testing.F) {
	f.Add([]byte("Suite: s\nDate: Sat, 21 Nov 2026  0:45:27 UTC\nSHA256:\n " + hashA + " 1 main/binary-amd64/Packages\n"))
	f.Add([]byte("Date: 1 Jan 2026 00:00:00 +0000\nValid-Until: x\nSHA256:\n"))
	for _, name := range []string{"noble-InRelease", "bookworm-security-InRelease"} {
		if data, err := os.ReadFile("testdata/" + name); err == nil {
			f.Add(data[:min(len(data), 8192)])
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseRelease(data)
		if err != nil {
			return
		}
		if r.Date.IsZero() || r.Files == nil {
			t.Fatal("parsed a Release without Date or SHA256 list")
		}
		for p, f := range r.Files {
			if p != f.Path || len(f.SHA256) != 64 || f.Size < 0 || strings.HasPrefix(p, "/") {
				t.Fatalf("bad entry %q: %+v", p, f)
			}
		}
	})
}
