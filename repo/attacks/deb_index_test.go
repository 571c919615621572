package attacks_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/rootfsd/rootfsd/deb"
	"github.com/rootfsd/rootfsd/deb/debtest"
	"github.com/rootfsd/rootfsd/repo"
	"github.com/rootfsd/rootfsd/store"
)

// TestAttackDebIndexes: mix-and-match, wrong keys, missing and extra
// signatures against the Debian backend, partly with real archive data.
func TestAttackDebIndexes(t *testing.T) {
	newSnap := buildSnap(t, snapSpec{date: newDate, pkgs: newPkgs()})
	oldSnap := buildSnap(t, snapSpec{date: oldDate, pkgs: oldPkgs()})
	k := keys()
	signedBy := func(date time.Time, signers ...*openpgp.Entity) map[string][]byte {
		return buildSnap(t, snapSpec{date: date, pkgs: newPkgs(), signers: signers}).files
	}
	runAttacks(t, "deb", []attack{
		{class: "mix-and-match", name: "Packages of the old snapshot under the new InRelease", defence: "Packages size and SHA256 from the signed Release",
			want: []error{deb.ErrHashMismatch, repo.ErrSizeMismatch}, text: "Packages",
			run: func(t *testing.T) (string, error) {
				e := newDebEnv(t, newSnap.files)
				old := debtest.Serve(t, oldSnap.files)
				e.proxy.on("/Packages.gz", e.proxy.from(old.URL)).on("/Packages.xz", e.proxy.from(old.URL))
				return "", installHello(t, e)
			}},
		{class: "mix-and-match", name: "old hello .deb at the new version's pool path", defence: "Size and SHA256 from the signed Packages",
			want: []error{repo.ErrSizeMismatch, store.ErrDigestMismatch}, text: "hello",
			run: func(t *testing.T) (string, error) {
				e := newDebEnv(t, newSnap.files)
				e.proxy.on(helloDeb, replace(oldSnap.debs["hello"]))
				return "", installHello(t, e)
			}},
		{class: "mix-and-match", name: "bookworm-updates InRelease served as bookworm-security", defence: "Suite/Codename of the signed Release must name the suite asked for",
			want: []error{deb.ErrSuiteMismatch}, text: "bookworm-updates",
			run: func(t *testing.T) (string, error) {
				e := newDebEnv(t, newSnap.files)
				e.proxy.on("bookworm-security/InRelease", replace(newSnap.files["dists/bookworm-updates/InRelease"]))
				return "", installHello(t, e)
			}},
		{class: "mix-and-match", name: "real noble InRelease served as noble-updates", defence: "suite check, embedded Ubuntu keyring",
			want: []error{deb.ErrSuiteMismatch}, text: "noble-updates",
			run: func(t *testing.T) (string, error) {
				return "", fetchReal(t, "noble-InRelease", "noble-updates", "ubuntu", time.Date(2024, 4, 26, 0, 0, 0, 0, time.UTC))
			}},
		{class: "freeze", name: "real bookworm-security InRelease replayed after its Valid-Until", defence: "Valid-Until, embedded Debian keyring",
			want: []error{deb.ErrExpired}, text: "valid until 2026-11-28",
			run: func(t *testing.T) (string, error) {
				return "", fetchReal(t, "bookworm-security-InRelease", "bookworm-security", "debian", time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
			}},
		{class: "wrong key", name: "InRelease signed by an untrusted key (Release.gpg path)", defence: "detached signature checked against the archive keyring",
			want: []error{deb.ErrSignature}, text: "unknown entity",
			run: func(t *testing.T) (string, error) {
				e := newDebEnv(t, signedBy(newDate, k.attacker))
				e.proxy.on("/InRelease", status(404))
				return "", installHello(t, e)
			}},
		{class: "wrong key", name: "signed by an archive key that has expired", defence: "key validity at the clock",
			want: []error{deb.ErrSignature}, text: "expired",
			run: func(t *testing.T) (string, error) {
				return "", installHello(t, newDebEnv(t, signedBy(oldDate, k.expired)))
			}},
		{class: "wrong key", name: "a third-party source's key signs a fake main archive", defence: "signed-by keys verify their own source only",
			want: []error{deb.ErrSignature}, text: "bookworm",
			run: func(t *testing.T) (string, error) {
				e := newDebEnv(t, signedBy(newDate, k.thirdParty))
				req := debRequest("hello")
				req.Sources = []repo.Source{{URL: e.proxy.URL, Suite: "bookworm", Components: []string{"main"},
					SignedBy: string(debtest.ArmoredKeyring(t, k.thirdParty))}}
				_, _, err := e.build(t, req)
				return "", err
			}},
		{class: "missing signature", name: "unsigned Release served as InRelease", defence: "only clearsigned text is parsed",
			text: "not a clearsigned message", as: anyError,
			run: func(t *testing.T) (string, error) {
				e := newDebEnv(t, newSnap.files)
				e.proxy.on("bookworm/InRelease", replace(newSnap.files["dists/bookworm/Release"]))
				return "", installHello(t, e)
			}},
		{class: "missing signature", name: "InRelease and Release.gpg withheld, Release served", defence: "no signature, no index",
			want: []error{repo.ErrNotFound}, text: "Release.gpg",
			run: func(t *testing.T) (string, error) {
				e := newDebEnv(t, newSnap.files)
				e.proxy.on("/InRelease", status(404)).on("/Release.gpg", status(404))
				return "", installHello(t, e)
			}},
		{class: "missing signature", name: "unsigned text before the signed message", defence: "first line must open the signed message",
			text: "no BEGIN PGP SIGNED MESSAGE", as: anyError,
			run: func(t *testing.T) (string, error) {
				e := newDebEnv(t, newSnap.files)
				e.proxy.on("bookworm/InRelease", edit(func(b []byte) []byte { return append([]byte("Acquire-By-Hash: yes\n\n"), b...) }))
				return "", installHello(t, e)
			}},
		{class: "extra signature", name: "unsigned text after the signature", defence: "nothing outside the signed part is accepted",
			text: "bytes after the signature", as: anyError,
			run: func(t *testing.T) (string, error) {
				e := newDebEnv(t, newSnap.files)
				e.proxy.on("bookworm/InRelease", edit(func(b []byte) []byte {
					return append(b, "\nSHA256:\n 0000000000000000000000000000000000000000000000000000000000000000 1 main/binary-amd64/Packages\n"...)
				}))
				return "", installHello(t, e)
			}},
		{class: "extra signature", name: "attacker's signature beside the archive's", defence: "any one trusted signature verifies; untrusted ones are ignored",
			run: func(t *testing.T) (string, error) {
				return "accepted: the archive's signature verifies, the attacker's adds nothing", installHello(t, newDebEnv(t, signedBy(newDate, k.attacker, k.archive)))
			}},
		{class: "extra signature", name: "17 signatures on one InRelease", defence: "at most 16 signatures are tried",
			text: "at most 16", as: anyError,
			run: func(t *testing.T) (string, error) {
				signers := make([]*openpgp.Entity, 17)
				for i := range signers {
					signers[i] = k.attacker
				}
				signers[16] = k.archive
				return "", installHello(t, newDebEnv(t, signedBy(newDate, signers...)))
			}},
	})
}

// anyError accepts any error: for refusals without a sentinel, where the
// message (text) is what is checked.
func anyError(err error) bool { return err != nil }

// fetchReal serves a real InRelease of deb/testdata under served's path
// through the proxy and fetches suite served with the embedded keyring.
func fetchReal(t *testing.T, file, served, keyring string, now time.Time) error {
	data, err := os.ReadFile(filepath.Join("..", "..", "deb", "testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	origin := debtest.Serve(t, map[string][]byte{"dists/" + served + "/InRelease": data})
	p := newProxy(t, origin.URL)
	kr, err := deb.Keyring(keyring)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := deb.Suite{URL: p.URL, Name: served, Components: []string{"main"}, Arch: "amd64", Keyring: kr}
	_, err = deb.FetchSuite(ctx(t), s, deb.FetchOptions{Cache: st, Fetcher: &repo.Fetcher{Client: p.Client(), Retries: -1},
		Now: func() time.Time { return now }})
	if err == nil {
		t.Fatal("the real InRelease was accepted")
	}
	if strings.Contains(err.Error(), "signature") {
		t.Fatalf("the real InRelease did not verify: %v", err)
	}
	return err
}
