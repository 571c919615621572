package layering

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"path"
	"strings"
)

// Plan says which layer each entry of a full layer goes to.
type Plan struct {
	// Groups are the layers, bottom first; the last one holds the rest.
	Groups []Group
	// assign maps the name of every entry but directories to its group.
	assign map[string]int
}

// entry is what the first pass keeps of a tar entry.
type entry struct {
	typ  byte
	size int64
	link string // hard link target (a name) or symlink target
}

// NewPlan reads the full layer r once and decides the groups: the
// database tells the owners, rules which owners get a layer.
func NewPlan(ctx context.Context, r io.Reader, db Database, rules Rules) (*Plan, error) {
	entries, order, files, err := scan(ctx, r, db)
	if err != nil {
		return nil, err
	}
	owned, err := db.Parse(files)
	if err != nil {
		return nil, fmt.Errorf("layering: package database: %w", err)
	}
	// owner maps a name to its package; "" marks a path two packages
	// claim, which stays in the last layer.
	owner := map[string]string{}
	for pkg, paths := range owned {
		for _, p := range paths {
			n := resolveDirs(entries, p)
			e, ok := entries[n]
			if !ok || e.typ == tar.TypeDir {
				continue
			}
			if prev, seen := owner[n]; seen && prev != pkg {
				owner[n] = ""
				continue
			}
			owner[n] = pkg
		}
	}
	sizes, owns := map[string]int64{}, map[string]int{}
	for n, pkg := range owner {
		if pkg == "" {
			continue
		}
		owns[pkg]++
		if e := entries[n]; e.typ == tar.TypeReg {
			sizes[pkg] += e.size
		}
	}
	chosen := choose(sizes, owns, rules)
	group := map[string]int{}
	p := &Plan{assign: map[string]int{}}
	for i, pkg := range chosen {
		group[pkg] = i
		p.Groups = append(p.Groups, Group{Packages: []string{pkg}})
	}
	last := len(chosen)
	p.Groups = append(p.Groups, Group{})
	for _, n := range order {
		e := entries[n]
		g, ok := group[owner[n]]
		if !ok || owner[n] == "" {
			g = last
		}
		if e.typ == tar.TypeLink {
			// A hard link lives in its target's layer: a layer cannot
			// link to a file of another one.
			if tg, ok := p.assign[e.link]; ok {
				g = tg
			} else {
				g = last
			}
		}
		p.assign[n] = g
	}
	return p, nil
}

// scan is the first pass: every entry's type, size and link, the names of
// the entries other than directories in tar order, and the database files.
func scan(ctx context.Context, r io.Reader, db Database) (map[string]entry, []string, map[string][]byte, error) {
	entries := map[string]entry{}
	var order []string
	files := map[string][]byte{}
	var dbBytes int64
	tr := tar.NewReader(r)
	for {
		if err := ctx.Err(); err != nil {
			return nil, nil, nil, err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, nil, fmt.Errorf("layering: read layer: %w", err)
		}
		n, err := name(hdr.Name)
		if err != nil {
			return nil, nil, nil, err
		}
		if sparse(hdr) {
			// A sparse file reads as its full logical size: a few
			// bytes of tar could expand without bound. rootfsd never
			// writes one.
			return nil, nil, nil, fmt.Errorf("layering: read layer: %s: sparse files are not supported", n)
		}
		if _, dup := entries[n]; dup {
			return nil, nil, nil, fmt.Errorf("layering: read layer: %s appears twice", n)
		}
		e := entry{typ: hdr.Typeflag, size: hdr.Size, link: hdr.Linkname}
		switch hdr.Typeflag {
		case tar.TypeDir, tar.TypeReg, tar.TypeSymlink, tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		case tar.TypeLink:
			if e.link, err = name(hdr.Linkname); err != nil {
				return nil, nil, nil, err
			}
		default:
			return nil, nil, nil, fmt.Errorf("layering: read layer: %s: unsupported entry type %q", n, hdr.Typeflag)
		}
		entries[n] = e
		if hdr.Typeflag != tar.TypeDir {
			order = append(order, n)
		}
		if hdr.Typeflag == tar.TypeReg && db.Match(n) {
			if dbBytes += hdr.Size; dbBytes > maxDatabase {
				return nil, nil, nil, fmt.Errorf("layering: package database: more than %d bytes", maxDatabase)
			}
			data, err := io.ReadAll(io.LimitReader(tr, hdr.Size))
			if err != nil {
				return nil, nil, nil, fmt.Errorf("layering: read %s: %w", n, err)
			}
			files[n] = data
		}
	}
	return entries, order, files, nil
}

// sparse reports whether hdr is a GNU or PAX sparse file.
func sparse(hdr *tar.Header) bool {
	if hdr.Typeflag == tar.TypeGNUSparse {
		return true
	}
	for k := range hdr.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return true
		}
	}
	return false
}

// name is a tar name as a clean relative path ("." for the root).
func name(s string) (string, error) {
	for _, c := range strings.Split(s, "/") {
		if c == ".." {
			return "", fmt.Errorf("layering: read layer: %q leaves the root", s)
		}
	}
	n := path.Clean("/" + s)
	if n == "/" {
		return ".", nil
	}
	return n[1:], nil
}

// resolveDirs maps a path as a database spells it to the name the tree
// holds it under, following symlinked directories (not the last element):
// "/lib/x86_64-linux-gnu/libc.so.6" is
// "usr/lib/x86_64-linux-gnu/libc.so.6" when lib is a link to usr/lib.
func resolveDirs(entries map[string]entry, p string) string {
	comps := strings.Split(strings.Trim(path.Clean("/"+p), "/"), "/")
	done := ""
	for hops := 0; len(comps) > 1; {
		cur := path.Join(done, comps[0])
		e, ok := entries[cur]
		if !ok || e.typ != tar.TypeSymlink {
			done, comps = cur, comps[1:]
			continue
		}
		if hops++; hops > 40 {
			break
		}
		t := e.link
		if !path.IsAbs(t) {
			t = path.Join("/", done, t)
		}
		t = strings.Trim(path.Clean(t), "/")
		done = ""
		if t != "" {
			comps = append(strings.Split(t, "/"), comps[1:]...)
		} else {
			comps = comps[1:]
		}
	}
	return path.Join(done, path.Join(comps...))
}
