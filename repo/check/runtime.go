package check

import (
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// caBundles are the files TLS stacks read their trust anchors from:
// Debian's and Alpine's bundle, Alpine's and LibreSSL's cert.pem, and the
// Fedora family's; Go's crypto/x509 tries the same list.
var caBundles = []string{
	"/etc/ssl/certs/ca-certificates.crt",
	"/etc/ssl/cert.pem",
	"/etc/pki/tls/certs/ca-bundle.crt",
	"/etc/ssl/ca-bundle.pem",
	"/etc/pki/tls/cacert.pem",
	"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
}

// checkTLS reports TLS users when no CA bundle is present.
func (c *checker) checkTLS() {
	if len(c.tlsUsers) == 0 {
		return
	}
	bundles := caBundles
	if c.opts.Config != nil {
		if v, ok := envValue(c.opts.Config.Env, "SSL_CERT_FILE"); ok && v != "" {
			bundles = append([]string{v}, bundles...)
		}
	}
	for _, b := range bundles {
		if _, fi, ok := stat(c.fsys, b); ok && fi.Mode().IsRegular() && fi.Size() > 0 {
			return
		}
	}
	for _, p := range c.tlsUsers {
		c.add(Finding{Kind: NoCABundle, Severity: Warning, Missing: caBundles[0]}, p)
	}
}

// checkTmp reports a missing /tmp, or one not writable by everyone, in a
// tree that has programs to run.
func (c *checker) checkTmp() {
	if c.elfCount == 0 {
		return
	}
	hint := `add paths: [{path: /tmp, type: directory, mode: "1777"}] to the spec`
	_, fi, ok := stat(c.fsys, "/tmp")
	switch {
	case !ok || !fi.IsDir():
		c.add(Finding{Kind: MissingTmp, Severity: Warning, Missing: "/tmp is missing: programs that create temporary files will fail", Hint: hint}, "")
	case fi.Mode().Perm()&0o777 != 0o777 || fi.Mode()&fs.ModeSticky == 0:
		c.add(Finding{Kind: MissingTmp, Severity: Warning, Hint: hint,
			Missing: fmt.Sprintf("/tmp has mode %s, not 1777: programs not running as root cannot create temporary files", modeString(fi.Mode()))}, "")
	}
}

// zoneinfo is where the C library and Go look for timezone data.
const zoneinfo = "/usr/share/zoneinfo"

// checkTimezone reports missing timezone data that something expects: a
// TZ variable naming a zone, a dangling /etc/localtime, packages that
// depend on tzdata, and Go programs that load locations without the
// embedded database.
func (c *checker) checkTimezone() {
	dir := zoneinfo
	if c.opts.Config != nil {
		if v, ok := envValue(c.opts.Config.Env, "TZDIR"); ok && v != "" {
			dir = v
		}
		if tz, ok := envValue(c.opts.Config.Env, "TZ"); ok && namesZone(tz) {
			name := strings.TrimPrefix(tz, ":")
			file := name
			if !strings.HasPrefix(name, "/") {
				file = path.Join(dir, name)
			}
			if _, fi, ok := stat(c.fsys, file); !ok || !fi.Mode().IsRegular() {
				c.add(Finding{Kind: MissingTimezone, Severity: Warning, Missing: fmt.Sprintf("%s (for TZ=%s) is missing", file, tz)}, "")
			}
		}
	}
	if real, fi, err := resolve(c.fsys, "/etc/localtime", false); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		if _, _, ok := stat(c.fsys, real); !ok {
			target, _ := c.fsys.ReadLink(real)
			c.add(Finding{Kind: MissingTimezone, Severity: Warning, Missing: fmt.Sprintf("/etc/localtime points to %s, which is missing", target)}, "")
		}
	}
	if _, fi, ok := stat(c.fsys, dir); ok && fi.IsDir() {
		return
	}
	missing := dir + " (timezone data) is missing"
	for _, p := range c.tzUsers {
		c.add(Finding{Kind: MissingTimezone, Severity: Warning, Missing: missing}, p)
	}
	for _, pkg := range c.db.tzDependents {
		f := Finding{Kind: MissingTimezone, Severity: Warning, Missing: missing}
		c.add(f, "")
		m := c.merged[string(f.Kind)+"\x00"+f.Missing]
		m.Owners = append(m.Owners, pkg)
	}
}

// namesZone tells a TZ value that names a zone file from a POSIX rule
// ("EST5EDT", "<+03>-3") and from UTC, which needs no file.
func namesZone(tz string) bool {
	tz = strings.TrimPrefix(tz, ":")
	switch tz {
	case "", "UTC", "GMT", "Etc/UTC", "UTC0", "GMT0":
		return false
	}
	return !strings.ContainsAny(tz, "<0123456789") || strings.Contains(tz, "/")
}

func envValue(env []string, key string) (string, bool) {
	v := ""
	found := false
	for _, e := range env {
		if k, val, ok := strings.Cut(e, "="); ok && k == key {
			v, found = val, true
		}
	}
	return v, found
}

// modeString prints permission bits with setuid, setgid and sticky as
// octal, the way chmod takes them.
func modeString(m fs.FileMode) string {
	n := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		n |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		n |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		n |= 0o1000
	}
	return fmt.Sprintf("%04o", n)
}
