package main

import (
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/rootfsd/rootfsd/repo"
	"github.com/rootfsd/rootfsd/repo/check"
	"github.com/rootfsd/rootfsd/repo/sbom"
)

func newSBOMCmd(g *globals) *cobra.Command {
	var format string
	c := &cobra.Command{
		Use:   "sbom LOCK|DIR|TAR|IMAGE",
		Short: "Print the SBOM (SPDX 2.3 or CycloneDX 1.6 JSON) of a lock or an image",
		Long: `sbom prints a software bill of materials. From a lockfile it lists the locked
packages with their hashes; from a root filesystem (a directory, a rootfs tar,
an OCI layout, an oci-archive or a docker-archive) it reads the package
database inside it (dpkg's status or apk's installed db). Builds also write
both documents beside their exports.`,
		Example: `  rootfsd sbom rootfs.lock
  rootfsd sbom --sbom-format cyclonedx image.tar > image.cdx.json
  skopeo copy containers-storage:localhost/ca:24.04 oci-archive:ca.tar && rootfsd sbom ca.tar`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			f, err := sbom.ParseFormat(format)
			if err != nil {
				return usageError{err}
			}
			plan, name, err := sbomPlan(c, args[0])
			if err != nil {
				return err
			}
			data, err := sbom.Generate(f, plan, sbom.Options{Name: name, Created: sbomTime()})
			if err != nil {
				return err
			}
			_, err = g.stdout.Write(data)
			return err
		},
	}
	c.Flags().StringVar(&format, "sbom-format", "spdx", "spdx or cyclonedx")
	return c
}

// sbomTime is SOURCE_DATE_EPOCH when set, so the document is reproducible.
func sbomTime() time.Time {
	var sec int64
	if _, err := fmt.Sscan(os.Getenv("SOURCE_DATE_EPOCH"), &sec); err == nil {
		return time.Unix(sec, 0).UTC()
	}
	return time.Unix(0, 0).UTC()
}

// sbomPlan reads a lock, or the package database of a root filesystem.
func sbomPlan(c *cobra.Command, path string) (*repo.Plan, string, error) {
	if l, err := repo.ReadLock(path); err == nil {
		return &l.Plan, l.Distro, nil
	} else if strings.HasSuffix(path, ".lock") {
		return nil, "", err
	}
	t, err := check.Load(c.Context(), path, check.LoadOptions{})
	if err != nil {
		return nil, "", err
	}
	defer t.Close()
	pkgs := check.Installed(c.Context(), t.FS)
	if len(pkgs) == 0 {
		return nil, "", fmt.Errorf("%s: no dpkg status or apk installed database in it, so no package list", path)
	}
	distro := check.Distro(t.FS)
	p := &repo.Plan{Family: repo.FamilyDeb, Distro: distro, Packages: pkgs}
	if _, err := fs.Stat(t.FS, "lib/apk/db/installed"); err == nil {
		p.Family = repo.FamilyAPK
	}
	if p.Distro == "" { // no os-release in the tree: the family is all we know
		p.Distro = map[repo.Family]string{repo.FamilyAPK: "alpine", repo.FamilyDeb: "debian"}[p.Family]
	}
	if len(pkgs) > 0 {
		p.Arch = pkgs[0].Arch
	}
	return p, distro, nil
}
