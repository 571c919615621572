package attacks_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/rootfsd/rootfsd/deb/debtest"
)

// Hostile tar streams that archive/tar's Writer refuses to write: PAX
// records that contradict the ustar header, GNU long names, sizes that
// lie. Each header is written byte by byte.

// rawHdr is one raw tar header and the data after it.
type rawHdr struct {
	name string // ustar name field (at most 100 bytes)
	typ  byte   // '0', '5', '1', '2', 'x', 'g', 'L'...
	mode int64
	size int64 // header size field; -1 is len(body)
	link string
	body []byte // written after the header, padded to 512
}

// rawTar writes headers and their bodies and the end-of-archive blocks.
func rawTar(hs ...rawHdr) []byte {
	var b bytes.Buffer
	for _, h := range hs {
		size := h.size
		if size < 0 {
			size = int64(len(h.body))
		}
		mode := h.mode
		if mode == 0 {
			mode = 0o644
		}
		blk := make([]byte, 512)
		copy(blk, h.name)
		copy(blk[100:], fmt.Sprintf("%07o\x00", mode))
		copy(blk[108:], "0000000\x00")
		copy(blk[116:], "0000000\x00")
		copy(blk[124:], fmt.Sprintf("%011o\x00", size))
		copy(blk[136:], fmt.Sprintf("%011o\x00", debtest.Epoch().Unix()))
		blk[156] = h.typ
		copy(blk[157:], h.link)
		copy(blk[257:], "ustar\x0000")
		copy(blk[265:], "root")
		copy(blk[297:], "root")
		copy(blk[148:], "        ")
		sum := 0
		for _, c := range blk {
			sum += int(c)
		}
		copy(blk[148:], fmt.Sprintf("%06o\x00 ", sum))
		b.Write(blk)
		b.Write(h.body)
		for b.Len()%512 != 0 {
			b.WriteByte(0)
		}
	}
	b.Write(make([]byte, 1024))
	return b.Bytes()
}

// pax encodes PAX records "key=value" as an extended header body.
func pax(kv ...string) []byte {
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		s := " " + kv[i] + "=" + kv[i+1] + "\n"
		n := len(s) + 1
		for len(fmt.Sprint(n)+s) != n {
			n = len(fmt.Sprint(n) + s)
		}
		b.WriteString(fmt.Sprint(n) + s)
	}
	return []byte(b.String())
}

// file is a regular file header with its body.
func file(name, body string) rawHdr {
	return rawHdr{name: name, typ: '0', size: -1, body: []byte(body)}
}

// withPAX precedes h with an extended header of records.
func withPAX(h rawHdr, kv ...string) []rawHdr {
	return []rawHdr{{name: "PaxHeaders/" + h.name, typ: 'x', size: -1, body: pax(kv...)}, h}
}

// rawDeb wraps a raw data.tar into a .deb for package "evil".
func rawDeb(t testing.TB, data []byte) []byte {
	control := debtest.Tar(t, debtest.DebEntry{Name: "./control", Body: "Package: evil\nVersion: 1.0\nArchitecture: amd64\nDescription: x\n"})
	return debtest.Ar(debtest.ArMember{Name: "debian-binary", Data: []byte("2.0\n")},
		debtest.ArMember{Name: "control.tar", Data: control}, debtest.ArMember{Name: "data.tar", Data: data})
}
