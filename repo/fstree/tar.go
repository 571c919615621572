package fstree

import (
	"archive/tar"
	"bufio"
	"fmt"
	"io"
	"time"
)

// TarOptions control WriteTar. The zero value writes every path with its
// own mtime, numeric ids only and no root entry.
type TarOptions struct {
	// Epoch is SOURCE_DATE_EPOCH: later mtimes are clamped to it. The
	// zero value clamps nothing.
	Epoch time.Time
	// Names writes the user and group names kept in the tree; by default
	// they are left empty so that only the numeric ids count.
	Names bool
	// Root writes an entry "./" for the root directory first.
	Root bool
}

// WriteTar writes the tree as a tar stream that depends only on the tree
// and opts: paths in Walk order (sorted, parents first) without a "./"
// prefix and with a "/" after directory names, PAX format (records only
// where USTAR cannot hold a value, keys sorted), whole-second mtimes, no
// atime or ctime, ids as in the tree, never the host's. The second and
// later paths of a hard-linked file are written as links to the first.
// Extended attributes are kept as SCHILY.xattr records.
//
// Writes to w come in chunks of up to tarBuf bytes, not one per header or
// file, so that a pipe or a file behind w costs few calls.
func (t *Tree) WriteTar(w io.Writer, opts TarOptions) error {
	bw := bufio.NewWriterSize(w, tarBuf)
	tw := tar.NewWriter(bw)
	var buf []byte // for spooled content
	err := t.walkInfo(func(i Info, n *node) error {
		if i.Path == "." && !opts.Root {
			return nil
		}
		hdr := tarHeader(i, opts)
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("%s: %w", i.Path, err)
		}
		if hdr.Typeflag != tar.TypeReg || hdr.Size == 0 {
			return nil
		}
		if n.data.ra == nil {
			if _, err := tw.Write(n.data.inline); err != nil {
				return fmt.Errorf("%s: %w", i.Path, err)
			}
			return nil
		}
		if buf == nil {
			buf = make([]byte, spoolBuf)
		}
		if n, err := io.CopyBuffer(tw, n.data.reader(), buf); err != nil {
			return fmt.Errorf("%s: after %d bytes: %w", i.Path, n, err)
		}
		return nil
	})
	if err == nil {
		err = tw.Close()
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return fmt.Errorf("fstree: write tar: %w", err)
	}
	return nil
}

// tarBuf is WriteTar's write size.
const tarBuf = 1 << 20

func tarHeader(i Info, opts TarOptions) *tar.Header {
	mtime := i.ModTime
	if !opts.Epoch.IsZero() && mtime.After(opts.Epoch) {
		mtime = opts.Epoch
	}
	hdr := &tar.Header{
		Name:    i.Path,
		Mode:    int64(i.Mode & ModeMask),
		Uid:     i.UID,
		Gid:     i.GID,
		ModTime: time.Unix(mtime.Unix(), 0),
		Format:  tar.FormatPAX,
	}
	if opts.Names {
		hdr.Uname, hdr.Gname = i.Uname, i.Gname
	}
	if len(i.Xattrs) > 0 {
		hdr.PAXRecords = make(map[string]string, len(i.Xattrs))
		for k, v := range i.Xattrs {
			hdr.PAXRecords[xattrPrefix+k] = v // tar.Writer sorts the keys
		}
	}
	switch {
	case i.Link != "":
		hdr.Typeflag, hdr.Linkname = tar.TypeLink, i.Link
	case i.Kind == KindFile:
		hdr.Typeflag, hdr.Size = tar.TypeReg, i.Size
	case i.Kind == KindDir:
		hdr.Typeflag = tar.TypeDir
		hdr.Name += "/"
		if i.Path == "." {
			hdr.Name = "./"
		}
	case i.Kind == KindSymlink:
		hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, i.Target
	case i.Kind == KindChar:
		hdr.Typeflag = tar.TypeChar
	case i.Kind == KindBlock:
		hdr.Typeflag = tar.TypeBlock
	case i.Kind == KindFIFO:
		hdr.Typeflag = tar.TypeFifo
	}
	if i.Kind == KindChar || i.Kind == KindBlock {
		hdr.Devmajor, hdr.Devminor = i.Devmajor, i.Devminor
	}
	return hdr
}

// ReadTar adds every entry of a tar stream to the tree, tagged with owner.
// Global PAX headers are skipped; everything else goes through Add.
func (t *Tree) ReadTar(r io.Reader, owner string) error {
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("fstree: read tar: %w", err)
		}
		if hdr.Typeflag == tar.TypeXGlobalHeader {
			continue
		}
		if _, err := t.Add(hdr, tr, owner); err != nil {
			return err
		}
	}
}
