package main

import (
	"archive/tar"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/rootfsd/rootfsd/repo"
	"github.com/rootfsd/rootfsd/store"
)

// remoteFlags name the registry caches of a build (store/remote).
type remoteFlags struct {
	from, to  string
	plainHTTP bool
	caFiles   []string
	timeout   time.Duration
}

func (g *globals) addRemoteFlags(pf *pflag.FlagSet) {
	pf.StringVar(&g.remote.from, "cache-from", os.Getenv("ROOTFSD_CACHE_FROM"), "registry cache to pull layers and packages from on a miss: oci://HOST/REPO (env ROOTFSD_CACHE_FROM)")
	pf.StringVar(&g.remote.to, "cache-to", os.Getenv("ROOTFSD_CACHE_TO"), "registry cache to push layers and packages to after a build: oci://HOST/REPO (env ROOTFSD_CACHE_TO)")
	pf.BoolVar(&g.remote.plainHTTP, "plain-http", false, "speak plain HTTP to the registry cache and to a docker:// push destination (loopback addresses only)")
	pf.StringArrayVar(&g.remote.caFiles, "registry-ca", nil, "extra CA certificate (PEM) for the registry cache's TLS; repeatable")
	pf.DurationVar(&g.remote.timeout, "cache-timeout", 30*time.Second, "bound on each registry cache request; past it the build falls back to the mirror")
}

// set reports whether a registry cache is configured: such builds run
// in-process, the daemon does not take them.
func (r remoteFlags) set() bool { return r.from != "" || r.to != "" }

// exportFormat versions the file `rootfsd cache export` writes.
const exportFormat = "rootfsd-cache-export-v1"

// Limits on an export file, which comes back from a CI system's cache.
const (
	maxExportIndex = 64 << 20
	maxExportBlobs = 1 << 20
)

// exportIndex is the first entry of an export file; the blobs follow as
// blobs/sha256/<hex>.
type exportIndex struct {
	Format   string                `json:"format"`
	Blobs    []store.Blob          `json:"blobs"`
	Packages []store.PackageRecord `json:"packages,omitempty"`
	Indexes  []store.IndexRecord   `json:"indexes,omitempty"`
	Layers   []store.LayerRecord   `json:"layers,omitempty"`
	Meta     []exportMeta          `json:"meta,omitempty"`
}

// exportMeta is a meta record naming a blob: apk's map from a package's
// checksum to its verified file (metaPackages in apk/install_backend.go),
// which apk indexes need because they carry no SHA256.
type exportMeta struct {
	NS     string `json:"ns"`
	Key    string `json:"key"`
	Digest string `json:"digest"`
}

const apkPackagesMeta = "apk-package"

func newCacheExportCmd(g *globals) *cobra.Command {
	var lockFile string
	c := &cobra.Command{
		Use:   "export FILE",
		Short: "Write the cache (or what one lock needs) to a tar file for a CI cache step",
		Long: `export writes the cache's blobs and records to FILE (a tar), atomically, for the
save step of a CI system's cache; "rootfsd cache import FILE" restores it on
another runner. With --lock, only the package files the lock names.`,
		Example: `  rootfsd cache export --lock rootfs.lock rootfsd-cache.tar
  rootfsd cache import rootfsd-cache.tar`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			st, err := g.engine().Store()
			if err != nil {
				return err
			}
			var l *repo.Lock
			if lockFile != "" {
				if l, err = repo.ReadLock(lockFile); err != nil {
					return err
				}
			}
			ix, err := exportSelection(c.Context(), st, l)
			if err != nil {
				return err
			}
			if err := writeExport(c.Context(), st, ix, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "exported %d blobs to %s\n", len(ix.Blobs), args[0])
			return nil
		},
	}
	c.Flags().StringVar(&lockFile, "lock", "", "export only the package files this lock needs")
	return c
}

func newCacheImportCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "import FILE",
		Short: "Add the blobs and records of an export file to the cache",
		Long: `import reads a file "rootfsd cache export" wrote. Every blob is re-hashed and kept
only if it matches its name; records are added only for blobs that arrived.`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			st, err := g.engine().Store()
			if err != nil {
				return err
			}
			n, err := importExport(c.Context(), st, args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "imported %d blobs from %s\n", n, args[0])
			return nil
		},
	}
}

// exportSelection lists what to export: everything, or the packages of l.
func exportSelection(ctx context.Context, st *store.Store, l *repo.Lock) (exportIndex, error) {
	ix := exportIndex{Format: exportFormat}
	blobs, err := st.List(ctx)
	if err != nil {
		return ix, err
	}
	if l == nil {
		ix.Blobs = blobs
		if ix.Packages, err = st.Packages(ctx); err != nil {
			return ix, err
		}
		if ix.Indexes, err = st.Indexes(ctx); err != nil {
			return ix, err
		}
		ix.Layers, err = st.Layers(ctx)
		return ix, err
	}
	want := map[string]bool{}
	for _, p := range l.Packages {
		if rec, err := st.Package(ctx, store.PackageKey(p)); err == nil && st.Has(rec.Digest) {
			ix.Packages = append(ix.Packages, rec)
			want[rec.Digest] = true
		} else if p.SHA256 != "" && st.Has(p.SHA256) {
			want[p.SHA256] = true
		} else if d, err := st.GetMetaContext(ctx, apkPackagesMeta, p.Checksum); p.Checksum != "" && err == nil && st.Has(string(d)) {
			ix.Meta = append(ix.Meta, exportMeta{NS: apkPackagesMeta, Key: p.Checksum, Digest: string(d)})
			want[string(d)] = true
		}
	}
	for _, b := range blobs {
		if want[b.Digest] {
			ix.Blobs = append(ix.Blobs, b)
		}
	}
	return ix, nil
}

// writeExport writes ix and its blobs to path through a temporary file.
func writeExport(ctx context.Context, st *store.Store, ix exportIndex, path string) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("cache export %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	tw := tar.NewWriter(tmp)
	head, err := json.Marshal(ix)
	if err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: "index.json", Mode: 0o644, Size: int64(len(head)), Format: tar.FormatPAX}); err != nil {
		return fmt.Errorf("cache export %s: %w", path, err)
	}
	if _, err := tw.Write(head); err != nil {
		return fmt.Errorf("cache export %s: %w", path, err)
	}
	for _, b := range ix.Blobs {
		if err := ctx.Err(); err != nil {
			return err
		}
		rc, err := st.Open(ctx, b.Digest) // re-hashes: a damaged blob fails the export
		if err != nil {
			return fmt.Errorf("cache export %s: %w", path, err)
		}
		err = tw.WriteHeader(&tar.Header{Name: "blobs/sha256/" + b.Digest, Mode: 0o444, Size: b.Size, Format: tar.FormatPAX})
		if err == nil {
			_, err = io.Copy(tw, rc)
		}
		if cerr := rc.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("cache export %s: blob %s: %w", path, b.Digest, err)
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("cache export %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("cache export %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("cache export %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// importExport adds the blobs of an export file, each checked against its
// name, then the records whose blobs are present.
func importExport(ctx context.Context, st *store.Store, path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("cache import: %w", err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	hdr, err := tr.Next()
	if err != nil || hdr.Name != "index.json" || hdr.Size > maxExportIndex {
		return 0, fmt.Errorf("cache import %s: not a rootfsd cache export (no index.json first)", path)
	}
	var ix exportIndex
	if err := json.NewDecoder(io.LimitReader(tr, maxExportIndex)).Decode(&ix); err != nil {
		return 0, fmt.Errorf("cache import %s: index.json: %w", path, err)
	}
	if ix.Format != exportFormat {
		return 0, fmt.Errorf("cache import %s: format %q, want %q", path, ix.Format, exportFormat)
	}
	if len(ix.Blobs) > maxExportBlobs {
		return 0, fmt.Errorf("cache import %s: %d blobs over the limit of %d", path, len(ix.Blobs), maxExportBlobs)
	}
	labels := map[string]store.Label{}
	for _, b := range ix.Blobs {
		labels[b.Digest] = store.Label{Kind: b.Kind, Name: b.Name}
	}
	n := 0
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return n, fmt.Errorf("cache import %s: %w", path, err)
		}
		d, ok := strings.CutPrefix(hdr.Name, "blobs/sha256/")
		l, listed := labels[d]
		if !ok || !listed || hdr.Typeflag != tar.TypeReg {
			return n, fmt.Errorf("cache import %s: unexpected entry %q", path, hdr.Name)
		}
		if _, err := st.PutBlob(ctx, tr, d, hdr.Size, l); err != nil {
			return n, fmt.Errorf("cache import %s: %w", path, err)
		}
		n++
	}
	for _, r := range ix.Packages {
		if st.Has(r.Digest) {
			if err := st.SetPackage(ctx, r); err != nil {
				return n, err
			}
		}
	}
	for _, r := range ix.Indexes {
		if st.Has(r.Digest) {
			if err := st.SetIndex(ctx, r); err != nil {
				return n, err
			}
		}
	}
	for _, r := range ix.Layers {
		if st.Has(r.Digest) {
			if err := st.SetLayer(ctx, r); err != nil {
				return n, err
			}
		}
	}
	for _, m := range ix.Meta {
		if m.NS == apkPackagesMeta && st.Has(m.Digest) {
			if err := st.SetMetaContext(ctx, m.NS, m.Key, []byte(m.Digest)); err != nil {
				return n, err
			}
		}
	}
	return n, st.Flush(ctx)
}
