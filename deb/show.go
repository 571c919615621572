package deb

import (
	"context"
	"sort"
	"strings"

	"github.com/rootfsd/rootfsd/repo"
)

// Show implements repo.Shower: every version of name in the request's
// indexes, the candidate first, or the providers of a virtual name.
func (b *Backend) Show(ctx context.Context, req repo.Request, name string) ([]repo.PackageInfo, error) {
	u, _, d, err := b.Universe(ctx, req)
	if err != nil {
		return nil, err
	}
	defer u.Close()
	u.mu.Lock()
	defer u.mu.Unlock()
	var all []*Candidate
	for _, ref := range u.named(name) {
		c, err := u.load(ref)
		if err != nil {
			return nil, err
		}
		if c.Arch == u.Arch || c.Arch == "all" {
			all = append(all, c)
		}
	}
	provs, err := u.providers(name)
	if err != nil {
		return nil, err
	}
	var providedBy []string
	for _, p := range provs {
		providedBy = append(providedBy, p.Name+" "+p.Version)
	}
	sort.Strings(providedBy)
	providedBy = dedupe(providedBy)
	if len(all) == 0 && len(providedBy) == 0 {
		return nil, &repo.UnknownPackageError{Name: name, Where: d.Name() + " " + strings.Join(componentsOf(req, d), ", "),
			Suggestions: repo.Suggest(name, u.Names(), 5)}
	}
	if len(all) == 0 {
		return []repo.PackageInfo{{Name: name, Suite: "(virtual)", ProvidedBy: providedBy,
			Fields: map[string]string{"Provided-By": strings.Join(providedBy, ", ")}}}, nil
	}
	sort.SliceStable(all, func(i, j int) bool { return CompareVersions(all[i].Version, all[j].Version) > 0 })
	out := make([]repo.PackageInfo, 0, len(all))
	for i, c := range all {
		info := repo.PackageInfo{Name: c.Name, Version: c.Version, Arch: c.Arch, Suite: c.File.Suite,
			Candidate: i == 0, Filename: c.Filename, Size: c.Size, SHA256: c.SHA256,
			Fields: map[string]string{}, ProvidedBy: providedBy}
		_ = ParseControl(c.Raw, func(p *Paragraph) error {
			for _, f := range p.Fields {
				k := string(f.Name)
				if k == "Description" {
					info.Description, _, _ = strings.Cut(string(f.Value), "\n")
					continue
				}
				info.Fields[k] = string(f.Value)
			}
			return nil
		})
		out = append(out, info)
	}
	return out, nil
}
