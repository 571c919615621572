package main

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/rootfsd/rootfsd/api"
)

func newCacheCmd(g *globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "cache",
		Short: "List, measure, verify and prune the download cache",
		Long: `cache works on the content-addressed cache (--cache-dir), through the daemon
when one answers, so that it never races the daemon's own work.`,
		Args: cobra.NoArgs,
	}
	c.AddCommand(newCacheLsCmd(g), newCacheDuCmd(g), newCacheVerifyCmd(g), newCachePruneCmd(g))
	c.AddCommand(newCacheExportCmd(g), newCacheImportCmd(g)) // cache_export.go
	return c
}

func newCacheLsCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "ls",
		Short: "List every blob in the cache",
		Long: `List every blob in the cache with its kind, size, last use and name.

Kinds: package (a downloaded .deb or .apk), index (a signed index, a
Packages file, or the table rootfsd keeps of one), unpacked (a package's
decoded data.tar, kept so that new package sets skip decompression; about
three times the package's size), layer (a built layer or its gzip form),
config (an image config, manifest or SBOM). Blobs kept by rootfsd versions
that did not label them have no kind; "rootfsd cache du" counts them as
other.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := g.checkFormat(); err != nil {
				return err
			}
			cs, err := g.cacheService()
			if err != nil {
				return err
			}
			bs, err := cs.CacheList(c.Context(), g.apiOptions())
			if err != nil {
				return err
			}
			if g.format == "json" {
				if bs == nil {
					bs = []api.Blob{}
				}
				return writeJSON(g.stdout, bs)
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "DIGEST\tKIND\tSIZE\tLAST USED\tNAME")
			for _, b := range bs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", b.Digest[:12], b.Kind, humanBytes(b.Size), b.LastUsed.Local().Format("2006-01-02 15:04"), b.Name)
			}
			return tw.Flush()
		},
	}
}

func newCacheDuCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "du",
		Short: "Show what the cache occupies, by kind",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := g.checkFormat(); err != nil {
				return err
			}
			cs, err := g.cacheService()
			if err != nil {
				return err
			}
			u, err := cs.CacheStats(c.Context(), g.apiOptions())
			if err != nil {
				return err
			}
			if g.format == "json" {
				return writeJSON(g.stdout, u)
			}
			printUsage(g, u)
			return nil
		},
	}
}

func printUsage(g *globals, u *api.CacheUsage) {
	fmt.Fprintf(g.stdout, "cache %s: %d blobs, %s (referenced %s)\n", u.Dir, u.Blobs.Files, humanBytes(u.Blobs.Bytes), humanBytes(u.Referenced.Bytes))
	kinds := make([]string, 0, len(u.Kinds))
	for k := range u.Kinds {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		name := k
		if name == "" {
			name = "other"
		}
		fmt.Fprintf(g.stdout, "  %-10s %6d  %s\n", name, u.Kinds[k].Files, humanBytes(u.Kinds[k].Bytes))
	}
	if u.Temp.Files > 0 || u.Quarantine.Files > 0 {
		fmt.Fprintf(g.stdout, "  temporary %d (%s), quarantined %d (%s)\n", u.Temp.Files, humanBytes(u.Temp.Bytes), u.Quarantine.Files, humanBytes(u.Quarantine.Bytes))
	}
}

func newCacheVerifyCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "verify",
		Short: "Re-hash every blob and repair the cache's metadata",
		Long: `verify re-hashes every blob against its name, moves corrupt ones to quarantine
(they are fetched again when needed), and reconciles the metadata with the files.
It exits 1 when a problem could not be repaired.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := g.checkFormat(); err != nil {
				return err
			}
			cs, err := g.cacheService()
			if err != nil {
				return err
			}
			r, err := cs.CacheVerify(c.Context(), g.apiOptions())
			if err != nil {
				return err
			}
			if g.format == "json" {
				if err := writeJSON(g.stdout, r); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(g.stdout, "verified %d blobs (%s), %d problems, %d leftover temporary files removed\n", r.Blobs.Files, humanBytes(r.Blobs.Bytes), len(r.Problems), r.TempRemoved.Files)
				for _, p := range r.Problems {
					state := "repaired"
					if !p.Repaired {
						state = "NOT repaired"
					}
					fmt.Fprintf(g.stdout, "  %s %s %s: %s (%s)\n", p.Kind, p.Digest, p.Key, p.Detail, state)
				}
			}
			if !r.OK() {
				return fmt.Errorf("cache verify: problems remain that could not be repaired")
			}
			return nil
		},
	}
}

func newCachePruneCmd(g *globals) *cobra.Command {
	var (
		p         api.PruneOptions
		olderThan string
		maxSize   string
	)
	c := &cobra.Command{
		Use:   "prune",
		Short: "Remove blobs by age, by total size, or all",
		Example: `  rootfsd cache prune --older-than 30d
  rootfsd cache prune --max-size 10G --keep-referenced
  rootfsd cache prune --all --dry-run`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := g.checkFormat(); err != nil {
				return err
			}
			var err error
			if p.OlderThan, err = parseAge(olderThan); err != nil {
				return usageError{fmt.Errorf("--older-than %q: %w", olderThan, err)}
			}
			if p.MaxBytes, err = parseSize(maxSize); err != nil {
				return usageError{fmt.Errorf("--max-size %q: %w", maxSize, err)}
			}
			cs, err := g.cacheService()
			if err != nil {
				return err
			}
			r, err := cs.CachePrune(c.Context(), g.apiOptions(), p)
			if err != nil {
				return err
			}
			if g.format == "json" {
				return writeJSON(g.stdout, r)
			}
			verb := "removed"
			if p.DryRun {
				verb = "would remove"
			}
			fmt.Fprintf(g.stdout, "%s %d blobs (%s), kept %d (%s)\n", verb, r.Freed.Files, humanBytes(r.Freed.Bytes), r.Kept.Files, humanBytes(r.Kept.Bytes))
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&olderThan, "older-than", "", "remove blobs unused for longer than this (e.g. 30d, 12h)")
	f.StringVar(&maxSize, "max-size", "", "remove the least recently used blobs until the cache fits this size (e.g. 10G, 500M)")
	f.BoolVar(&p.All, "all", false, "remove every blob")
	f.BoolVar(&p.KeepReferenced, "keep-referenced", false, "keep every blob a lock or image refers to")
	f.BoolVar(&p.DryRun, "dry-run", false, "say what would be removed, remove nothing")
	return c
}

// parseAge reads a duration, with d for days.
func parseAge(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.ParseFloat(n, 64)
		if err != nil || days < 0 {
			return 0, fmt.Errorf("expected a number of days, e.g. 30d")
		}
		return time.Duration(days * float64(24*time.Hour)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("expected a duration such as 30d or 12h")
	}
	return d, nil
}

// parseSize reads a byte count with an optional K, M, G or T suffix
// (powers of 1024).
func parseSize(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	mult := int64(1)
	u := strings.ToUpper(s)
	if x, ok := strings.CutSuffix(u, "IB"); ok {
		u = x
	} else {
		u = strings.TrimSuffix(u, "B")
	}
	for i, suf := range []string{"K", "M", "G", "T"} {
		if strings.HasSuffix(u, suf) {
			mult = int64(1) << (10 * (i + 1))
			u = strings.TrimSuffix(u, suf)
			break
		}
	}
	n, err := strconv.ParseFloat(u, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("expected a size such as 10G or 500M")
	}
	return int64(n * float64(mult)), nil
}
