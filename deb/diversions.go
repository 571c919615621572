package deb

import (
	"strings"
)

// diversion is one dpkg-divert --add: files other packages ship at from
// go to to instead; pkg itself keeps from. pkg is ":" for a local
// diversion, as dpkg writes it.
type diversion struct {
	from, to, pkg string
}

// diversions is var/lib/dpkg/diversions in the making.
type diversions struct {
	list []diversion
}

// add records a diversion unless from is already diverted, which is what
// dpkg-divert --add does when the same diversion is added again.
func (d *diversions) add(from, to, pkg string) {
	for _, x := range d.list {
		if x.from == from {
			return
		}
	}
	d.list = append(d.list, diversion{from: from, to: to, pkg: pkg})
}

// remove drops the diversion of from.
func (d *diversions) remove(from string) {
	for i, x := range d.list {
		if x.from == from {
			d.list = append(d.list[:i], d.list[i+1:]...)
			return
		}
	}
}

// divertedFor returns the package diverting path away from pkg, or "".
func (d *diversions) divertedFor(path, pkg string) string {
	for _, x := range d.list {
		if x.from == path && x.pkg != pkg {
			return x.pkg
		}
	}
	return ""
}

// fsysHashBins is the size of dpkg's file name hash table (a prime near
// 2^18); dpkg writes the diversions in the order of that table.
const fsysHashBins = 262139

// fsysHash is dpkg's str_fnv_hash (32-bit FNV-1a) of a path without its
// leading slash, the bin of the name in dpkg's file name table.
func fsysHash(path string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(path); i++ {
		h ^= uint32(path[i])
		h *= 16777619
	}
	return h % fsysHashBins
}

// encode renders the file as dpkg-divert writes it: "from\nto\npkg\n" per
// diversion, in the order of dpkg's hash table of the diverted paths, so
// that the bytes match a tree built by dpkg. Within one bin dpkg keeps
// the order the names were first seen, which is the order added here.
func (d *diversions) encode() []byte {
	list := append([]diversion(nil), d.list...)
	bins := make(map[string]uint32, len(list))
	for _, x := range list {
		bins[x.from] = fsysHash(strings.TrimLeft(x.from, "/"))
	}
	// Insertion sort keeps equal bins in insertion order.
	for i := 1; i < len(list); i++ {
		for j := i; j > 0 && bins[list[j].from] < bins[list[j-1].from]; j-- {
			list[j], list[j-1] = list[j-1], list[j]
		}
	}
	var b strings.Builder
	for _, x := range list {
		b.WriteString(x.from + "\n" + x.to + "\n" + x.pkg + "\n")
	}
	return []byte(b.String())
}

// writeDiversions writes var/lib/dpkg/diversions. dpkg creates the file
// with the first diversion; a tree without any has none.
func (a *assembler) writeDiversions() error {
	if len(a.divs.list) == 0 {
		return nil
	}
	return a.t.WriteFile(dpkgAdmin+"/diversions", a.divs.encode(), a.attr(0o644))
}
