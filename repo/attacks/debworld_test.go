package attacks_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/rootfsd/rootfsd/deb"
	"github.com/rootfsd/rootfsd/deb/debtest"
	"github.com/rootfsd/rootfsd/repo"
	"github.com/rootfsd/rootfsd/repo/fstree"
	"github.com/rootfsd/rootfsd/store"
)

// The Debian side of the suite: a "debian:12" release (pockets bookworm,
// bookworm-updates, bookworm-security) built in memory, in two snapshots
// ten days apart, signed by a test archive key that the backend trusts in
// place of the embedded keyring.

// keySet holds the OpenPGP keys of the suite, generated once.
type keySet struct {
	archive    *openpgp.Entity // the trusted archive key (signing subkey, as Debian's)
	attacker   *openpgp.Entity // never trusted
	expired    *openpgp.Entity // trusted, expires 5 days after Epoch
	thirdParty *openpgp.Entity // an extra source's own signed-by key
}

var keys = sync.OnceValue(func() *keySet {
	gen := func(name string, opt debtest.KeyOptions) *openpgp.Entity {
		e, err := debtest.GenerateKey(name, opt)
		if err != nil {
			panic(err)
		}
		return e
	}
	return &keySet{
		archive:    gen("archive", debtest.KeyOptions{Algo: debtest.Ed25519, SigningSubkey: true}),
		attacker:   gen("attacker", debtest.KeyOptions{Algo: debtest.Ed25519}),
		expired:    gen("expired", debtest.KeyOptions{Algo: debtest.Ed25519, Lifetime: 5 * 24 * time.Hour}),
		thirdParty: gen("third-party", debtest.KeyOptions{Algo: debtest.Ed25519}),
	}
})

// Dates of the two snapshots and the clocks that read them.
var (
	oldDate  = debtest.Epoch().Add(1 * 24 * time.Hour)
	newDate  = debtest.Epoch().Add(10 * 24 * time.Hour)
	newClock = newDate.Add(time.Hour)
)

// debPkg is one package of a snapshot.
type debPkg struct {
	name, version, depends, provides string
	arch                             string // default amd64
	data                             []debtest.DebEntry
	compression                      string // of data.tar, default .gz
	// stanza edits the Packages stanza after it is written (hostile
	// index fields); nil keeps it.
	stanza func(string) string
}

func (p debPkg) pool() string {
	return fmt.Sprintf("pool/main/%c/%s/%s_%s_%s.deb", p.name[0], p.name, p.name, p.version, p.archOr())
}

func (p debPkg) archOr() string {
	if p.arch == "" {
		return "amd64"
	}
	return p.arch
}

// debSnap is a built snapshot of the release: every file below the
// mirror root, by path.
type debSnap struct {
	files map[string][]byte
	debs  map[string][]byte // name -> the .deb
	pkgs  map[string]debPkg
}

// snapSpec describes a snapshot.
type snapSpec struct {
	date, validUntil time.Time
	signers          []*openpgp.Entity
	pkgs             []debPkg
	// noPlain leaves the uncompressed Packages out of the Release, as
	// third-party repositories do (the decompression caps then apply).
	noPlain bool
	// suite and packagesText override the suite name (default the three
	// pockets of bookworm) and the generated Packages text.
	suites       []string
	packagesText func(string) string
	compressions []string
}

// oldPkgs and newPkgs are the release before and after a security update
// of hello and libc6.
func oldPkgs() []debPkg {
	return []debPkg{
		{name: "libc6", version: "2.36-9", data: files("./lib/", "./lib/libc.so.6", "libc 2.36-9")},
		{name: "hello", version: "1.0-1", depends: "libc6 (>= 2.36)", data: files("./usr/", "./usr/bin/", "./usr/bin/hello", "#!/bin/sh\necho hello 1.0\n")},
	}
}

func newPkgs() []debPkg {
	return []debPkg{
		{name: "libc6", version: "2.36-9+deb12u1", data: files("./lib/", "./lib/libc.so.6", "libc 2.36-9+deb12u1")},
		{name: "hello", version: "2.0-1", depends: "libc6 (>= 2.36)", data: files("./usr/", "./usr/bin/", "./usr/bin/hello", "#!/bin/sh\necho hello 2.0\n")},
	}
}

// files makes data.tar entries: directories (names ending in "/"), then
// one file with its content (the last two arguments).
func files(spec ...string) []debtest.DebEntry {
	var out []debtest.DebEntry
	for i := 0; i < len(spec); i++ {
		if strings.HasSuffix(spec[i], "/") {
			out = append(out, debtest.DebEntry{Name: spec[i], Type: '5'})
			continue
		}
		out = append(out, debtest.DebEntry{Name: spec[i], Body: spec[i+1], Mode: 0o755})
		i++
	}
	return out
}

// buildSnap builds the packages, their Packages index and signed suites.
func buildSnap(t testing.TB, s snapSpec) *debSnap {
	t.Helper()
	snap := &debSnap{files: map[string][]byte{}, debs: map[string][]byte{}, pkgs: map[string]debPkg{}}
	var text strings.Builder
	for _, p := range s.pkgs {
		comp := p.compression
		if comp == "" {
			comp = ".gz"
		}
		data := debtest.MakeDeb(t, debtest.Deb{Package: p.name, Version: p.version, Arch: p.archOr(), Data: p.data, Compression: comp})
		snap.files[p.pool()] = data
		snap.debs[p.name] = data
		snap.pkgs[p.name] = p
		st := fmt.Sprintf("Package: %s\nVersion: %s\nArchitecture: %s\nMaintainer: Test <test@localhost>\n", p.name, p.version, p.archOr())
		if p.depends != "" {
			st += "Depends: " + p.depends + "\n"
		}
		if p.provides != "" {
			st += "Provides: " + p.provides + "\n"
		}
		st += fmt.Sprintf("Priority: optional\nFilename: %s\nSize: %d\nSHA256: %s\nDescription: %s\n", p.pool(), len(data), debtest.Sum(data), p.name)
		if p.stanza != nil {
			st = p.stanza(st)
		}
		text.WriteString(st + "\n")
	}
	suites := s.suites
	if suites == nil {
		suites = []string{"bookworm", "bookworm-updates", "bookworm-security"}
	}
	signers := s.signers
	if signers == nil {
		signers = []*openpgp.Entity{keys().archive}
	}
	for i, suite := range suites {
		pk := ""
		if i == 0 {
			pk = text.String()
		}
		if s.packagesText != nil {
			pk = s.packagesText(pk)
		}
		r := &debtest.Repo{Suite: suite, Date: s.date, ValidUntil: s.validUntil, Arch: "amd64",
			Packages: map[string]string{"main": pk}, Signers: signers, NoPlainListed: s.noPlain, Compressions: s.compressions}
		for p, b := range r.Build(t) {
			snap.files[p] = b
		}
	}
	return snap
}

// merge is the union of file sets, later ones winning.
func merge(sets ...map[string][]byte) map[string][]byte {
	out := map[string][]byte{}
	for _, s := range sets {
		for p, b := range s {
			out[p] = b
		}
	}
	return out
}

// debEnv is one case's world: an origin mirror, the attacker's proxy in
// front of it, a fresh store and a backend that only knows the proxy.
type debEnv struct {
	origin *debtest.Server
	proxy  *proxy
	store  *store.Store
	clock  time.Time
	keys   openpgp.EntityList
}

func newDebEnv(t testing.TB, mirror map[string][]byte) *debEnv {
	t.Helper()
	origin := debtest.Serve(t, mirror)
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return &debEnv{origin: origin, proxy: newProxy(t, origin.URL), store: st, clock: newClock, keys: debtest.Trust(t, keys().archive, keys().expired)}
}

// backend is the Debian backend as the engine builds it, pointed at the
// proxy, with short timeouts and no retries so that cases stay fast.
func (e *debEnv) backend() *deb.Backend {
	return &deb.Backend{
		Cache: e.store,
		Fetcher: &repo.Fetcher{Client: e.proxy.Client(), Cache: e.store, Retries: -1,
			HeaderTimeout: time.Second, MinRate: 4096, RateWindow: 300 * time.Millisecond},
		Mirrors: repo.Mirrors{Mirror: e.proxy.URL, SecurityMirror: e.proxy.URL, NoDiscovery: true},
		Now:     func() time.Time { return e.clock },
		Keyring: e.keys,
	}
}

func debRequest(pkgs ...string) repo.Request {
	return repo.Request{Distro: "debian:12", Arch: "amd64", Packages: pkgs, Variant: repo.VariantCustom}
}

// build does what `rootfsd build` does with a request: resolve, fetch
// every package into the store, unpack them from the store into a tree.
func (e *debEnv) build(t testing.TB, req repo.Request) (*repo.Plan, *fstree.Tree, error) {
	t.Helper()
	b := e.backend()
	plan, err := b.Resolve(ctx(t), req)
	if err != nil {
		return nil, nil, err
	}
	tree, err := e.install(t, plan.Packages)
	return plan, tree, err
}

// install fetches and unpacks planned packages.
func (e *debEnv) install(t testing.TB, pkgs []repo.Planned) (*fstree.Tree, error) {
	t.Helper()
	b := e.backend()
	tree := fstree.New(fstree.Options{})
	t.Cleanup(func() { tree.Close() })
	for _, p := range pkgs {
		d, err := b.FetchPackage(ctx(t), p)
		if err != nil {
			return tree, err
		}
		rc, err := e.store.Open(ctx(t), d)
		if err != nil {
			return tree, err
		}
		_, err = deb.Unpack(ctx(t), rc, p.Name, tree, deb.UnpackOptions{})
		rc.Close()
		if err != nil {
			return tree, err
		}
	}
	return tree, nil
}

// readTree returns a file's content from the tree.
func readTree(t testing.TB, tree *fstree.Tree, p string) string {
	t.Helper()
	b, err := tree.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
