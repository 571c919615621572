package apk

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// `busybox --install -s` links every applet compiled into the binary to
// /bin/busybox. The list lives in the binary as two tables that busybox's
// build generates (include/applet_tables.h): applet_names, the sorted
// applet names separated by NUL bytes, and applet_install_loc, one nibble
// per applet (low nibble first) naming its directory: 1 /bin, 2 /sbin,
// 3 /usr/bin, 4 /usr/sbin. rootfsd reads both tables from the busybox
// that is being installed, so the links always match the binary. Alpine's
// busybox also lists the same paths in etc/busybox-paths.d/busybox, which
// serves as a fallback and a cross-check.

// ErrNoApplets is returned when a binary holds no recognisable tables.
var ErrNoApplets = errors.New("busybox applet tables not found")

// busyboxDirs are the install directories of applet_install_loc.
func busyboxDir(loc byte) string {
	switch loc {
	case 1:
		return "bin"
	case 2:
		return "sbin"
	case 3:
		return "usr/bin"
	case 4:
		return "usr/sbin"
	}
	return ""
}

// BusyboxApplets returns the paths (relative, "bin/ls") that
// `busybox --install -s` links to /bin/busybox, read from the binary.
func BusyboxApplets(bin []byte) ([]string, error) {
	names, at := appletNames(bin)
	if len(names) < 8 {
		return nil, ErrNoApplets
	}
	locs, err := installLocs(bin, names, at)
	if err != nil {
		return nil, err
	}
	paths := make([]string, len(names))
	for i, n := range names {
		paths[i] = busyboxDir(locs[i]) + "/" + n
	}
	return paths, nil
}

func isAppletByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '[' || c == ']'
}

// appletNames finds the longest run of NUL-separated, strictly ascending
// applet-like names that includes "ls", and its offset.
func appletNames(bin []byte) ([]string, int) {
	var best []string
	bestAt := -1
	for i := 0; i < len(bin); {
		var run []string
		j := i
		for j < len(bin) {
			k := bytes.IndexByte(bin[j:min(j+33, len(bin))], 0)
			if k <= 0 {
				break
			}
			name := bin[j : j+k]
			ok := true
			for _, c := range name {
				if !isAppletByte(c) {
					ok = false
					break
				}
			}
			if !ok || (len(run) > 0 && run[len(run)-1] >= string(name)) {
				break
			}
			run = append(run, string(name))
			j += k + 1
		}
		if len(run) > len(best) && contains(run, "ls") {
			best, bestAt = run, i
		}
		if j > i {
			i = j
		} else {
			i++
		}
	}
	return best, bestAt
}

// installLocs finds applet_install_loc for names: ceil(n/2) bytes whose
// nibbles are all 1 to 4 (the last high nibble 0 when n is odd), closest to
// the names table, agreeing with where busybox always puts a few applets.
func installLocs(bin []byte, names []string, namesAt int) ([]byte, error) {
	n := len(names)
	size := (n + 1) / 2
	valid := func(b byte, last bool) bool {
		lo, hi := b&15, b>>4
		if lo < 1 || lo > 4 {
			return false
		}
		if last && n%2 == 1 {
			return hi == 0
		}
		return hi >= 1 && hi <= 4
	}
	known := map[string]byte{"ls": 1, "mount": 1, "sh": 1, "ifconfig": 2, "reboot": 2, "env": 3, "wc": 3, "chroot": 4, "crond": 4}
	fits := func(off int) ([]byte, bool) {
		for k := 0; k < size; k++ {
			if !valid(bin[off+k], k == size-1) {
				return nil, false
			}
		}
		locs := make([]byte, n)
		for i := range names {
			b := bin[off+i/2]
			if i%2 == 0 {
				locs[i] = b & 15
			} else {
				locs[i] = b >> 4
			}
			if want, ok := known[names[i]]; ok && locs[i] != want {
				return nil, false
			}
		}
		return locs, true
	}
	var best []byte
	bestDist := -1
	for off := 0; off+size <= len(bin); off++ {
		if !valid(bin[off], size == 1) {
			continue
		}
		locs, ok := fits(off)
		if !ok {
			continue
		}
		dist := namesAt - off
		if dist < 0 {
			dist = -dist
		}
		if bestDist < 0 || dist < bestDist {
			best, bestDist = locs, dist
		}
	}
	if best == nil {
		return nil, fmt.Errorf("%w: no install location table for %d applets", ErrNoApplets, n)
	}
	return best, nil
}

// parseBusyboxPaths reads etc/busybox-paths.d/busybox: one applet path a
// line, relative ("usr/bin/[").
func parseBusyboxPaths(data []byte) []string {
	var out []string
	for _, l := range strings.Split(string(data), "\n") {
		if l = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "/")); l != "" {
			out = append(out, l)
		}
	}
	return out
}
