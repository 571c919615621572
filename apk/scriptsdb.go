package apk

import (
	"bytes"
	"strconv"
)

// ScriptsTar renders lib/apk/db/scripts.tar byte for byte as apk-tools 2
// writes it (apk_db_scriptdb_write, apk_tar_write_entry): for each package
// in install order, its scripts in apk's order, named
// "<name>-<version>.<C:>.<script>", mode 0755, owner root/root, mtime the
// package's build time, in old GNU tar headers ("ustar  " magic), then two
// zero blocks.
func ScriptsTar(pkgs []*Installed) []byte {
	var buf bytes.Buffer
	for _, ip := range pkgs {
		for _, name := range scriptNames() {
			data := ip.File.Script(name)
			if data == nil {
				continue
			}
			p := ip.Package
			writeTarEntry(&buf, p.Name+"-"+p.Version+"."+p.Checksum+"."+name, data, 0o755, p.BuildTime)
		}
	}
	buf.Write(make([]byte, 1024))
	return buf.Bytes()
}

// writeTarEntry writes one regular file as apk_tar_write_entry does.
func writeTarEntry(buf *bytes.Buffer, name string, data []byte, mode, mtime int64) {
	var h [512]byte
	if len(name) > 99 { // strlcpy into 100 bytes
		name = name[:99]
	}
	copy(h[0:100], name)
	putOctal(h[100:108], mode&0o7777, true)
	putOctal(h[108:116], 0, true)
	putOctal(h[116:124], 0, true)
	putOctal(h[124:136], int64(len(data)), false)
	putOctal(h[136:148], mtime, false)
	h[156] = '0'
	copy(h[257:265], "ustar  \x00")
	copy(h[265:297], "root")
	copy(h[297:329], "root")
	for i := 148; i < 156; i++ {
		h[i] = ' '
	}
	sum := int64(0)
	for _, c := range h {
		sum += int64(c)
	}
	putOctal(h[148:155], sum, true) // the eighth byte stays a space
	buf.Write(h[:])
	buf.Write(data)
	if pad := len(data) % 512; pad != 0 {
		buf.Write(make([]byte, 512-pad))
	}
}

// putOctal fills field with value in zero-padded octal, the last byte NUL
// when nul is set (apk-tools' put_octal).
func putOctal(field []byte, value int64, nul bool) {
	n := len(field)
	if nul {
		field[n-1] = 0
		n--
	}
	s := strconv.FormatInt(value, 8)
	if len(s) > n {
		s = s[len(s)-n:]
	}
	for i := 0; i < n-len(s); i++ {
		field[i] = '0'
	}
	copy(field[n-len(s):n], s)
}
