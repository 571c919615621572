package deb

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rootfsd/rootfsd/deb/internal/debtest"
)

// The fingerprints keyrings/README.md lists; a replaced key file fails here.
func TestEmbeddedKeyrings(t *testing.T) {
	want := map[string][]string{
		"debian": {
			"B8B80B5B623EAB6AD8775C45B7C5D7D6350947F8", // bookworm automatic
			"05AB90340C0C5E797F44A8C8254CF3B5AEC0A8F0", // bookworm security automatic
			"4D64FEC119C2029067D6E791F8D2585B8783D481", // bookworm stable (Ed25519)
			"04B54C3CDCA79751B16BC6B5225629DF75B188BD", // trixie automatic
			"5E04A1E3223A19A20706E20F9904613D4CCE68C6", // trixie security automatic
			"41587F7DB8C774BCCF131416762F67A0B2C39DE4", // trixie stable (Ed25519)
		},
		"ubuntu": {
			"790BC7277767219C42C86F933B4FE6ACC0B21F32", // archive 2012
			"843938DF228D22F7B3742BC0D94AA3F0EFE21092", // cdimage 2012
			"F6ECB3762474EDA9D21B7022871920D1991BC93C", // archive 2018: signs noble and jammy
		},
	}
	for _, name := range KeyringNames() {
		kr, err := Keyring(name)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want[name], Fingerprints(kr)); d != "" {
			t.Errorf("%s fingerprints (-want +got):\n%s", name, d)
		}
		// Every key can sign now and in a year (none expires soon).
		for _, at := range []time.Time{testClock, time.Date(2027, 11, 1, 0, 0, 0, 0, time.UTC)} {
			for _, e := range kr {
				if _, ok := e.SigningKey(at); !ok {
					t.Errorf("%s: key %X cannot sign at %v", name, e.PrimaryKey.Fingerprint, at)
				}
			}
		}
	}
	if _, err := Keyring("alpine"); err == nil || !strings.Contains(err.Error(), "debian, ubuntu") {
		t.Errorf("unknown keyring: %v", err)
	}
}

func TestReadKeyring(t *testing.T) {
	k := testKeys()
	want := []string{Fingerprints(debtest.Trust(t, k.archive))[0], Fingerprints(debtest.Trust(t, k.release))[0]}
	tests := []struct {
		name string
		data []byte
	}{
		{"binary", debtest.PublicKeyring(t, k.archive, k.release)},
		{"armored, two blocks", debtest.ArmoredKeyring(t, k.archive, k.release)},
		{"armored with leading blank lines", append([]byte("\n\n"), debtest.ArmoredKeyring(t, k.archive, k.release)...)},
	}
	for _, tt := range tests {
		kr, err := ReadKeyring(tt.data)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if d := cmp.Diff(want, Fingerprints(kr)); d != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, d)
		}
	}
	// A key read back verifies what the original signed.
	kr, err := ReadKeyring(debtest.ArmoredKeyring(t, k.archive))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyInRelease(debtest.ClearSign(t, []byte("A: b\n"), repoDate, k.archive), kr, testClock); err != nil {
		t.Errorf("verify with an armored key: %v", err)
	}
}

func TestReadKeyringErrors(t *testing.T) {
	var secret bytes.Buffer
	if err := testKeys().untrusted.SerializePrivate(&secret, nil); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "keyring"},
		{"garbage", []byte("not a key"), "keyring"},
		{"signature block", []byte("-----BEGIN PGP SIGNATURE-----\n\nwsBcBAABCAAQBQJ=\n-----END PGP SIGNATURE-----\n"), "keyring"},
		{"secret key", secret.Bytes(), "secret key material"},
		{"too large", make([]byte, maxKeyringSize+1), "more than"},
	}
	for _, tt := range tests {
		if _, err := ReadKeyring(tt.data); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
}
