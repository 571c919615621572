package deb

import (
	"bytes"
	"errors"
	"os"
	"testing"
	"time"
)

// The InRelease files in testdata are real, public, signed files saved
// from the archives on 2026-11-23 (they name no host). They are checked
// with a fixed clock inside their validity window, so the test needs no
// network and keeps passing after Valid-Until.
func TestVerifyRealInRelease(t *testing.T) {
	clock := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		file, keyring, suite string
		keyID                string // the (sub)key whose signature verified
		date, validUntil     string
		packagesGz           string // SHA256 of main/binary-amd64/Packages.gz or .xz
	}{
		{
			file: "noble-InRelease", keyring: "ubuntu", suite: "noble",
			keyID: "F6ECB3762474EDA9D21B7022871920D1991BC93C",
			date:  "2024-04-25T15:10:33Z",
			// Checked by hand against the served Packages.gz.
			packagesGz: "e0d7e4cbb09d2aa7f9e104a1488817417bc9d85f3e5d9a21156a52ec641ae531",
		},
		{
			// Signed by the bullseye and bookworm security keys; only the
			// second is embedded, so this also shows that a signature by an
			// unknown key does not hide a later good one.
			file: "bookworm-security-InRelease", keyring: "debian", suite: "bookworm-security",
			keyID: "B0CAB9266E8C3929798B3EEEBDE6D2B9216EC7A8",
			date:  "2026-11-21T00:53:02Z", validUntil: "2026-11-28T00:53:02Z",
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile("testdata/" + tt.file)
			if err != nil {
				t.Fatal(err)
			}
			kr, err := Keyring(tt.keyring)
			if err != nil {
				t.Fatal(err)
			}
			s, err := VerifyInRelease(data, kr, clock)
			if err != nil {
				t.Fatal(err)
			}
			if s.KeyID != tt.keyID {
				t.Errorf("verified by %s, want %s", s.KeyID, tt.keyID)
			}
			if bytes.Contains(s.Body, []byte("PGP")) {
				t.Error("body holds text outside the signed part")
			}
			r, err := ParseRelease(s.Body)
			if err != nil {
				t.Fatal(err)
			}
			if err := r.Check(ReleaseCheck{Suite: tt.suite, Now: clock}); err != nil {
				t.Error(err)
			}
			if got := r.Date.Format(time.RFC3339); got != tt.date {
				t.Errorf("Date %s, want %s", got, tt.date)
			}
			if tt.validUntil != "" && r.ValidUntil.Format(time.RFC3339) != tt.validUntil {
				t.Errorf("Valid-Until %s, want %s", r.ValidUntil.Format(time.RFC3339), tt.validUntil)
			}
			if !r.AcquireByHash {
				t.Error("Acquire-By-Hash not seen")
			}
			if tt.packagesGz != "" {
				if f, _ := r.File("main/binary-amd64/Packages.gz"); f.SHA256 != tt.packagesGz || f.Size != 1808488 {
					t.Errorf("main/binary-amd64/Packages.gz = %+v", f)
				}
			}
			if _, ok := r.File("main/binary-amd64/Packages"); !ok {
				t.Error("no uncompressed main/binary-amd64/Packages entry")
			}

			// The other distribution's keys do not verify it.
			other := map[string]string{"ubuntu": "debian", "debian": "ubuntu"}[tt.keyring]
			okr, _ := Keyring(other)
			if _, err := VerifyInRelease(data, okr, clock); !errors.Is(err, ErrSignature) {
				t.Errorf("with the %s keyring: %v", other, err)
			}
			// One byte changed in the signed text.
			bad := bytes.Replace(data, []byte("Date: "), []byte("Date:  "), 1)
			bad = bytes.Replace(bad, []byte("Suite: "), []byte("Suite: x"), 1)
			if _, err := VerifyInRelease(bad, kr, clock); !errors.Is(err, ErrSignature) {
				t.Errorf("tampered: %v", err)
			}
		})
	}
}
