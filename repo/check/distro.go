package check

import (
	"io/fs"
	"strings"
)

// OSRelease reads /etc/os-release (or /usr/lib/os-release) of the tree.
func OSRelease(fsys fs.ReadLinkFS) map[string]string {
	data := readSmall(fsys, "/etc/os-release", 64<<10)
	if data == nil {
		data = readSmall(fsys, "/usr/lib/os-release", 64<<10)
	}
	out := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok || strings.HasPrefix(k, "#") {
			continue
		}
		out[k] = strings.Trim(v, `"'`)
	}
	return out
}

// Distro names the tree's release the way rootfsd's catalog spells it
// ("debian:12", "ubuntu:24.04", "alpine:3.19", "debian:sid"), or "" when
// the tree does not say.
func Distro(fsys fs.ReadLinkFS) string {
	osr := OSRelease(fsys)
	id := osr["ID"]
	switch id {
	case "debian", "ubuntu":
		if v := osr["VERSION_ID"]; v != "" {
			return id + ":" + v
		}
		if v := osr["VERSION_CODENAME"]; v != "" {
			return id + ":" + v
		}
		if id == "debian" && strings.Contains(osr["PRETTY_NAME"], "sid") {
			return "debian:sid"
		}
	case "alpine":
		v := osr["VERSION_ID"]
		if parts := strings.Split(v, "."); len(parts) >= 2 {
			return "alpine:" + parts[0] + "." + parts[1]
		}
		if strings.Contains(v, "_alpha") || strings.Contains(osr["PRETTY_NAME"], "edge") {
			return "alpine:edge"
		}
	}
	return ""
}

// detectFamily tells "deb" or "apk" from os-release or the package
// database present, "" when neither says.
func detectFamily(fsys fs.ReadLinkFS) string {
	osr := OSRelease(fsys)
	like := " " + osr["ID"] + " " + osr["ID_LIKE"] + " "
	switch {
	case strings.Contains(like, " debian ") || strings.Contains(like, " ubuntu "):
		return "deb"
	case strings.Contains(like, " alpine "):
		return "apk"
	}
	if _, _, ok := stat(fsys, "/var/lib/dpkg/status"); ok {
		return "deb"
	}
	if _, _, ok := stat(fsys, "/lib/apk/db/installed"); ok {
		return "apk"
	}
	return ""
}
