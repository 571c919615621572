package apk

import (
	"archive/tar"
	"fmt"
)

// entryPolicy refuses data entries that no Alpine package ships and that
// the Debian side refuses too (see SECURITY.md):
//
//   - character and block devices and FIFOs: a signed package could
//     otherwise put /dev/mem, or a disk, into every image built from it;
//     device nodes are made at run time (mdev, udev, the container
//     runtime), never shipped;
//   - a second entry for a path the package already wrote: the first is
//     checksummed and listed, the second silently replaces it (a file
//     turned into a symlink to /etc/shadow after the checks of the first).
//
// seen holds the names the package wrote so far.
func entryPolicy(seen map[string]bool, hdr *tar.Header) error {
	switch hdr.Typeflag {
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		return fmt.Errorf("%w: %s is a device node or fifo (type %q)", ErrFormat, hdr.Name, hdr.Typeflag)
	}
	if seen[hdr.Name] {
		return fmt.Errorf("%w: duplicate entry %s", ErrFormat, hdr.Name)
	}
	seen[hdr.Name] = true
	return nil
}
