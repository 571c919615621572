package deb

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"sort"
	"sync"
)

// IndexFile is one verified, uncompressed Packages file and where it came
// from. Data must stay unmodified while a Universe uses it.
type IndexFile struct {
	Suite     string // "noble-updates"
	Component string
	// Repository is the base URL pool paths are relative to.
	Repository string
	Data       []byte
	// Digest is the SHA256 of Data (used to cache its scan).
	Digest string
	// Release marks files of the release's own suite (not -updates or
	// -security): the essential variant selects from these, as mmdebstrap does.
	Release bool
	// Extra marks files of an extra source (--source), not of the
	// release's pockets: see policy.go for what they may not override.
	Extra bool
	scan  *scan
	// mapped is set when Data is a read-only mapping the Universe must
	// release in Close.
	mapped bool
	// fresh marks a file downloaded and verified by this very run.
	fresh bool
	// lazy is set when Data has not been hashed whole: each stanza's
	// bytes are checked against the scan's block sums before their first
	// use (bytes). onCorrupt, when set, lets the cache see a failure.
	lazy       bool
	onCorrupt  func() error
	scanCached bool // scan came from the cache
	blockMu    sync.Mutex
	blockOK    []bool
}

// bytes returns Data[off:off+n], after checking the blocks it lies in
// when the file was not verified whole.
func (f *IndexFile) bytes(off, n uint32) ([]byte, error) {
	end := uint64(off) + uint64(n)
	if end > uint64(len(f.Data)) {
		return nil, fmt.Errorf("%s/%s: stanza beyond the file", f.Suite, f.Component)
	}
	if f.lazy {
		f.blockMu.Lock()
		defer f.blockMu.Unlock()
		if f.blockOK == nil {
			f.blockOK = make([]bool, f.scan.nb)
		}
		for b := int(off) / scanBlock; n > 0 && b <= int(end-1)/scanBlock; b++ {
			if f.blockOK[b] {
				continue
			}
			if sum := sha256.Sum256(f.Data[b*scanBlock : min((b+1)*scanBlock, len(f.Data))]); !bytes.Equal(sum[:], f.scan.block(b)) {
				err := fmt.Errorf("blob %s: content does not match its digest (corrupt cache)", f.Digest)
				if f.onCorrupt != nil {
					if cerr := f.onCorrupt(); cerr != nil {
						err = cerr // the cache's own report
					}
				}
				return nil, fmt.Errorf("%s/%s: %w", f.Suite, f.Component, err)
			}
			f.blockOK[b] = true
		}
	}
	return f.Data[off:end], nil
}

// Candidate is one version of a package in a Universe.
type Candidate struct {
	*Package
	File *IndexFile
	seq  int // position across all files, for apt's package ID tie-break
}

// Universe is every package of a set of index files, keyed by name, with
// stanzas parsed on first use.
type Universe struct {
	Arch  string
	files []*IndexFile

	mu       sync.Mutex
	parsed   map[entryRef]*Candidate
	versions map[string][]*Candidate // memo of Versions

	idMu sync.Mutex
	ids  map[string]int // memo of id
}

type entryRef struct{ file, entry uint32 }

// NewUniverse indexes files (scanning those without a cached scan).
func NewUniverse(arch string, files []*IndexFile) (*Universe, error) {
	u := &Universe{Arch: arch, files: files, parsed: map[entryRef]*Candidate{}, versions: map[string][]*Candidate{}, ids: map[string]int{}}
	// Scan files in parallel: this is the cold path's main cost.
	var wg sync.WaitGroup
	errs := make([]error, len(files))
	for i, f := range files {
		if f.scan != nil {
			continue
		}
		wg.Add(1)
		go func(i int, f *IndexFile) {
			defer wg.Done()
			s, err := scanPackages(f.Data)
			if err != nil {
				errs[i] = fmt.Errorf("%s/%s: %w", f.Suite, f.Component, err)
				return
			}
			f.scan = s
			if f.mapped {
				dropPages(f.Data) // scanned whole; stanzas are read a few at a time
			}
		}(i, f)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return u, nil
}

func (u *Universe) load(r entryRef) (*Candidate, error) {
	if c, ok := u.parsed[r]; ok {
		return c, nil
	}
	f := u.files[r.file]
	e := f.scan.entry(int(r.entry))
	raw, err := f.bytes(e.off, e.len)
	if err != nil {
		return nil, err
	}
	var pkg *Package
	err = ParseControl(raw, func(p *Paragraph) error {
		var err error
		pkg, err = ParsePackage(p)
		return err
	})
	if err == nil && pkg == nil {
		err = fmt.Errorf("empty stanza")
	}
	if err != nil {
		return nil, fmt.Errorf("%s/%s: package %s: %w", f.Suite, f.Component, e.name, err)
	}
	c := &Candidate{Package: pkg, File: f, seq: int(r.file)<<24 | int(r.entry)}
	u.parsed[r] = c
	return c, nil
}

// Versions returns every version of name usable on the universe's
// architecture (native or "all"), highest first; for equal versions the
// earlier file wins (pockets are given in priority order).
func (u *Universe) Versions(name string) ([]*Candidate, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.versionsLocked(name)
}

func (u *Universe) versionsLocked(name string) ([]*Candidate, error) {
	if v, ok := u.versions[name]; ok {
		return v, nil
	}
	var out []*Candidate
	for _, r := range u.named(name) {
		c, err := u.load(r)
		if err != nil {
			return nil, err
		}
		if c.Arch != u.Arch && c.Arch != "all" {
			continue
		}
		out = append(out, c)
	}
	out = releaseOnly(out) // policy.go: extra sources do not override the release
	sort.SliceStable(out, func(i, j int) bool { return CompareVersions(out[i].Version, out[j].Version) > 0 })
	// Drop duplicates of one version (the same package in two pockets).
	dedup := out[:0]
	for i, c := range out {
		if i > 0 && c.Version == dedup[len(dedup)-1].Version {
			continue
		}
		dedup = append(dedup, c)
	}
	u.versions[name] = dedup
	return dedup, nil
}

// providerRefs returns the stanzas that provide name.
func (u *Universe) providers(name string) ([]*Candidate, error) {
	var out []*Candidate
	for _, r := range u.providing(name) {
		c, err := u.load(r)
		if err != nil {
			return nil, err
		}
		if c.Arch != u.Arch && c.Arch != "all" {
			continue
		}
		out = append(out, c)
	}
	return u.releaseProviders(name, out), nil // policy.go
}

// named returns the stanzas whose package is name, in file order.
func (u *Universe) named(name string) []entryRef { return u.refs((*scan).named, name) }

// providing returns the stanzas that provide name, in file order.
func (u *Universe) providing(name string) []entryRef { return u.refs((*scan).providing, name) }

func (u *Universe) refs(lookup func(*scan, string) []uint32, name string) []entryRef {
	var out []entryRef
	for fi, f := range u.files {
		for _, e := range lookup(f.scan, name) {
			out = append(out, entryRef{uint32(fi), e})
		}
	}
	return out
}

// Known reports whether name is a real or virtual package.
func (u *Universe) Known(name string) bool {
	for _, f := range u.files {
		if len(f.scan.named(name)) > 0 || len(f.scan.providing(name)) > 0 {
			return true
		}
	}
	return false
}

// Names returns every real package name (for suggestions).
func (u *Universe) Names() []string {
	seen := map[string]bool{}
	for _, f := range u.files {
		for i := range f.scan.n {
			if n := f.scan.entryName(i); !seen[string(n)] {
				seen[string(n)] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Essential returns the names of packages marked Essential: yes in files
// with Release set, sorted; with required, also Priority: required ones.
func (u *Universe) Essential(required bool) []string {
	seen := map[string]bool{}
	for _, f := range u.files {
		if !f.Release {
			continue
		}
		for i := range f.scan.n {
			if fl := f.scan.flags(i); fl&flagEssential != 0 || (required && fl&flagRequired != 0) {
				seen[string(f.scan.entryName(i))] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Close releases the mapped index files. Nothing taken from the universe
// may alias them afterwards: Candidates' Raw fields do.
func (u *Universe) Close() {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, f := range u.files {
		if f.mapped {
			unmapBlob(f.Data)
			f.mapped, f.Data = false, nil
		}
	}
	u.parsed, u.versions = map[entryRef]*Candidate{}, map[string][]*Candidate{}
}

// id approximates apt's package ID (creation order in its cache): the
// order in which names first appear across the files, a file's stanzas
// before the names they provide.
func (u *Universe) id(name string) int {
	u.idMu.Lock()
	defer u.idMu.Unlock()
	if v, ok := u.ids[name]; ok {
		return v
	}
	v, base := 1<<30, 0
	for _, f := range u.files {
		if e := f.scan.named(name); len(e) > 0 {
			v = base + int(e[0])
			break
		}
		base += f.scan.n
		if len(f.scan.providing(name)) > 0 {
			v = base
			break
		}
	}
	u.ids[name] = v
	return v
}
