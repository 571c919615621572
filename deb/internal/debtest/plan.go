package debtest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"testing"

	"github.com/rootfsd/rootfsd/repo"
)

// Plan builds each Deb with MakeDeb and returns a repo.Plan of them (in
// the order given, Family deb, Arch amd64) and an open function as
// deb.Assemble wants it. depends maps a package name to the names its
// Planned.Depends lists.
func Plan(t testing.TB, depends map[string][]string, debs ...Deb) (*repo.Plan, func(repo.Planned) (io.ReadCloser, error)) {
	t.Helper()
	files := make(map[string][]byte)
	plan := &repo.Plan{Family: repo.FamilyDeb, Distro: "debian:12", Arch: "amd64", Variant: repo.VariantCustom}
	for _, d := range debs {
		data := MakeDeb(t, d)
		name, version, arch := d.Package, d.Version, d.Arch
		if name == "" {
			name = "test"
		}
		if version == "" {
			version = "1.0"
		}
		if arch == "" {
			arch = "amd64"
		}
		sum := sha256.Sum256(data)
		p := repo.Planned{Name: name, Version: version, Arch: arch, Filename: "pool/" + name + ".deb",
			Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:]), Reason: "requested", Depends: depends[name]}
		files[p.ID()] = data
		plan.Packages = append(plan.Packages, p)
	}
	open := func(p repo.Planned) (io.ReadCloser, error) {
		data, ok := files[p.ID()]
		if !ok {
			return nil, fmt.Errorf("debtest: no package %s", p.ID())
		}
		return io.NopCloser(bytes.NewReader(data)), nil
	}
	return plan, open
}
