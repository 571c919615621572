package deb

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"strings"
)

// readControlMembers reads debian-binary and the control archive of a .deb
// and stops there: the members by name with their modes, and the name of
// the member after the control archive (normally data.tar.*, "" when it
// cannot be read; only a hint to schedule the decoding).
func readControlMembers(ctx context.Context, r io.Reader, max int64) (map[string]ctlMember, string, error) {
	ar, err := NewArReader(ctxReader{ctx, r}, 0)
	if err != nil {
		return nil, "", err
	}
	h, err := ar.Next()
	if err != nil || h.Name != "debian-binary" {
		return nil, "", fmt.Errorf("%w: no debian-binary member first", ErrBadDeb)
	}
	for {
		if h, err = ar.Next(); err != nil {
			return nil, "", fmt.Errorf("%w: no control.tar: %w", ErrBadDeb, err)
		}
		if !strings.HasPrefix(h.Name, "_") {
			break
		}
	}
	base, ext := splitMember(h.Name)
	if base != "control.tar" {
		return nil, "", fmt.Errorf("%w: member %q where control.tar was expected", ErrBadDeb, h.Name)
	}
	dec, err := decompress(ctx, h.Name, ext, ar, sizeLimit{max: max, ratio: 100, floor: 4 << 20}, "")
	if err != nil {
		return nil, "", err
	}
	defer dec.Close()
	out := make(map[string]ctlMember)
	tr := tar.NewReader(dec)
	for {
		th, err := tr.Next()
		if err == io.EOF {
			next := ""
			if h, err := ar.Next(); err == nil {
				next = h.Name
			}
			return out, next, nil
		}
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", h.Name, err)
		}
		name := strings.TrimPrefix(th.Name, "./")
		if th.Typeflag == tar.TypeDir && (name == "" || name == ".") {
			continue
		}
		if th.Typeflag != tar.TypeReg || name == "" || strings.Contains(name, "/") || name == "." || name == ".." {
			return nil, "", fmt.Errorf("%w: %s: entry %q of type %q", ErrBadDeb, h.Name, th.Name, th.Typeflag)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %s: %w", h.Name, th.Name, err)
		}
		out[name] = ctlMember{data: b, mode: th.Mode & 0o7777}
	}
}
