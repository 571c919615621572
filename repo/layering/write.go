package layering

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"path"
	"strings"
	"time"
)

// Write reads the full layer again from r (the same bytes NewPlan read)
// and writes layer i of the plan into ws[i], one tar stream each, closed
// with its end-of-archive marker (the writers themselves are not closed).
// It fills each Group's Entries and Bytes.
func (p *Plan) Write(ctx context.Context, r io.Reader, ws []io.Writer) error {
	if len(ws) != len(p.Groups) {
		return fmt.Errorf("layering: %d writers for %d layers", len(ws), len(p.Groups))
	}
	last := len(p.Groups) - 1
	tws := make([]*tar.Writer, len(ws))
	// dirs holds, per group layer, the parent directories written so far.
	dirs := make([]map[string]bool, len(ws))
	for i, w := range ws {
		tws[i], dirs[i] = tar.NewWriter(w), map[string]bool{}
		p.Groups[i].Entries, p.Groups[i].Bytes = 0, 0
	}
	tr := tar.NewReader(r)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("layering: read layer: %w", err)
		}
		n, err := name(hdr.Name)
		if err != nil {
			return err
		}
		if sparse(hdr) {
			return fmt.Errorf("layering: read layer: %s: sparse files are not supported", n)
		}
		g := last
		if hdr.Typeflag != tar.TypeDir {
			var ok bool
			if g, ok = p.assign[n]; !ok {
				return fmt.Errorf("layering: %s: not in the plan (the layer changed between the two reads)", n)
			}
			if g != last {
				if err := p.parents(tws[g], dirs[g], g, n); err != nil {
					return err
				}
			}
		}
		if err := tws[g].WriteHeader(clean(hdr)); err != nil {
			return fmt.Errorf("layering: layer %d: %s: %w", g+1, n, err)
		}
		p.Groups[g].Entries++
		if hdr.Typeflag == tar.TypeReg && hdr.Size > 0 {
			if _, err := io.Copy(tws[g], tr); err != nil {
				return fmt.Errorf("layering: layer %d: %s: %w", g+1, n, err)
			}
			p.Groups[g].Bytes += hdr.Size
		}
	}
	for i, tw := range tws {
		if err := tw.Close(); err != nil {
			return fmt.Errorf("layering: layer %d: %w", i+1, err)
		}
	}
	return nil
}

// parents writes the directories above name that layer g lacks, with
// fixed metadata: the last layer carries every directory's real one.
func (p *Plan) parents(tw *tar.Writer, done map[string]bool, g int, n string) error {
	dir := path.Dir(n)
	if dir == "." || done[dir] {
		return nil
	}
	if err := p.parents(tw, done, g, dir); err != nil {
		return err
	}
	done[dir] = true
	hdr := &tar.Header{Typeflag: tar.TypeDir, Name: dir + "/", Mode: 0o755, ModTime: time.Unix(0, 0), Format: tar.FormatPAX}
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("layering: layer %d: %s: %w", g+1, dir, err)
	}
	p.Groups[g].Entries++
	return nil
}

// clean is hdr as fstree writes headers: the same fields, PAX only where
// USTAR cannot hold a value, extended attributes kept, nothing else.
func clean(hdr *tar.Header) *tar.Header {
	out := &tar.Header{
		Typeflag: hdr.Typeflag, Name: hdr.Name, Linkname: hdr.Linkname, Size: hdr.Size,
		Mode: hdr.Mode, Uid: hdr.Uid, Gid: hdr.Gid, Uname: hdr.Uname, Gname: hdr.Gname,
		ModTime: time.Unix(hdr.ModTime.Unix(), 0), Devmajor: hdr.Devmajor, Devminor: hdr.Devminor,
		Format: tar.FormatPAX,
	}
	if hdr.Typeflag != tar.TypeReg {
		out.Size = 0
	}
	for k, v := range hdr.PAXRecords {
		if strings.HasPrefix(k, "SCHILY.xattr.") {
			if out.PAXRecords == nil {
				out.PAXRecords = map[string]string{}
			}
			out.PAXRecords[k] = v
		}
	}
	return out
}
