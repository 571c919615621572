package deb

import (
	"crypto/sha1"
	"encoding/pem"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/rootfsd/rootfsd/repo/fstree"
)

// ca-certificates: its config script enables every certificate under
// /usr/share/ca-certificates (debconf's trust_new_crts defaults to yes),
// its postinst writes /etc/ca-certificates.conf listing them and runs
// update-ca-certificates, which links /etc/ssl/certs/NAME.pem to each
// enabled certificate, concatenates them into
// /etc/ssl/certs/ca-certificates.crt and runs "openssl rehash" to make the
// HASH.N links OpenSSL looks certificates up by. All of it is done here,
// byte for byte.

const (
	caShareDir  = "usr/share/ca-certificates"
	caLocalDir  = "usr/local/share/ca-certificates"
	caConf      = "etc/ca-certificates.conf"
	caCertsDir  = "etc/ssl/certs"
	caBundle    = "ca-certificates.crt"
	caHooksDir  = "etc/ca-certificates/update.d"
	maxCertFile = 1 << 20
)

// postinstCACertificates is the postinst's configure branch on a fresh
// install.
func postinstCACertificates(a *assembler, p *instPkg) error {
	if !a.exists(caLocalDir) && a.isDir("usr/local/share") {
		local, err := a.t.Stat("usr/local")
		if err == nil {
			attr := a.attr(local.Mode & 0o777)
			attr.GID, attr.Gname = local.GID, ""
			if err := a.t.Mkdir(caLocalDir, attr); err != nil {
				return err
			}
		}
	}
	available := a.availableCerts(string(p.script("config")))
	if !a.exists(caConf) {
		header, ok := heredoc(string(p.script("postinst")), "/"+caConf)
		if !ok {
			a.warn(p.name, "ca-certificates: the header of /etc/ca-certificates.conf was not found in the postinst")
		}
		// Every available certificate is enabled: sort | uniq of the two
		// equal lists keeps each once, unprefixed.
		body := header + strings.Join(available, "\n")
		if len(available) > 0 {
			body += "\n"
		}
		if err := a.t.WriteFile(caConf, []byte(body), a.attr(0o644)); err != nil {
			return err
		}
	}
	a.conf.set("ca-certificates/enable_crts", strings.Join(available, ", "))
	a.conf.subst("ca-certificates/enable_crts", "enable_crts", strings.Join(available, ", "))
	a.conf.subst("ca-certificates/new_crts", "new_crts", "")
	a.conf.seenDefault("ca-certificates/trust_new_crts")
	return a.updateCACertificates(p)
}

// availableCerts is the config script's list: the .crt files under
// /usr/share/ca-certificates and its CERTS_LIST, sorted, unique.
func (a *assembler) availableCerts(config string) []string {
	seen := map[string]bool{}
	_ = a.t.Walk(func(i fstree.Info) error {
		rel, ok := strings.CutPrefix(i.Path, caShareDir+"/")
		switch {
		case i.Path == "." || strings.HasPrefix(caShareDir+"/", i.Path+"/"):
			return nil
		case !ok && i.Kind == fstree.KindDir:
			return fs.SkipDir
		case ok && i.Kind == fstree.KindFile && strings.HasSuffix(rel, ".crt"):
			seen[rel] = true
		}
		return nil
	})
	if list, ok := shellAssignment(config, "CERTS_LIST"); ok {
		for _, c := range strings.Split(list, ",") {
			if c = strings.TrimLeft(c, " \t"); c != "" {
				seen[c] = true
			}
		}
	}
	return sortedKeys(seen)
}

// updateCACertificates is update-ca-certificates without --fresh on a
// tree with no previous links.
func (a *assembler) updateCACertificates(p *instPkg) error {
	if err := a.ensureDir(caCertsDir, 0o755); err != nil {
		return err
	}
	conf, err := a.t.ReadFile(caConf)
	if err != nil {
		return nil
	}
	var bundle []byte
	added := 0
	add := func(cert string) error {
		data, err := a.t.ReadFile(cert)
		if err != nil {
			return err
		}
		name := strings.TrimSuffix(path.Base(cert), ".crt")
		name = strings.NewReplacer(" ", "_", "(", "=", ")", "=", ",", "_").Replace(name)
		pemPath := caCertsDir + "/" + name + ".pem"
		if a.readlink(pemPath) != "/"+cert {
			if err := a.replaceSymlink("/"+cert, pemPath); err != nil {
				return err
			}
			added++
		}
		if len(data) > 0 && data[len(data)-1] != '\n' {
			data = append(data, '\n')
		}
		bundle = append(bundle, data...)
		return nil
	}
	for _, line := range strings.Split(string(conf), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if crt, ok := strings.CutPrefix(line, "!"); ok {
			pemPath := caCertsDir + "/" + strings.TrimSuffix(path.Base(crt), ".crt") + ".pem"
			if a.isLink(pemPath) {
				_ = a.t.Remove(pemPath)
			}
			continue
		}
		if !a.isFile(caShareDir + "/" + line) {
			a.warn(p.name, fmt.Sprintf("update-ca-certificates: /%s/%s not found, but listed in /%s", caShareDir, line, caConf))
			continue
		}
		if err := add(caShareDir + "/" + line); err != nil {
			return err
		}
	}
	var local []string
	_ = a.t.Walk(func(i fstree.Info) error {
		if strings.HasPrefix(i.Path, caLocalDir+"/") && strings.HasSuffix(i.Path, ".crt") {
			if s, err := a.t.Stat(i.Path); err == nil && s.Kind == fstree.KindFile {
				local = append(local, i.Path)
			}
		}
		return nil
	})
	sort.Strings(local)
	for _, c := range local {
		if err := add(c); err != nil {
			return err
		}
	}
	if added > 0 {
		if err := a.rehash(caCertsDir); err != nil {
			return err
		}
	}
	if err := a.replaceFile(caCertsDir+"/"+caBundle, bundle, 0o644, 0, 0); err != nil {
		return err
	}
	if hooks := a.readDir(caHooksDir); len(hooks) > 0 {
		a.warn(p.name, fmt.Sprintf("update-ca-certificates: the hooks in /%s (%s) were not run", caHooksDir, strings.Join(hooks, ", ")))
	}
	return nil
}

// rehash is OpenSSL's "openssl rehash DIR" for certificates: every
// .pem/.crt/.cer file holding exactly one certificate gets a link
// HASH.N, N counting up from 0 among equal hashes in file name order;
// a certificate seen before (same SHA-1 fingerprint) gets none.
func (a *assembler) rehash(dir string) error {
	type entry struct {
		file string
		hash uint32
	}
	var entries []entry
	fingerprints := map[[20]byte]bool{}
	for _, name := range a.readDir(dir) {
		p := dir + "/" + name
		if isHashLink(name) && a.isLink(p) {
			continue
		}
		ext := strings.ToLower(path.Ext(name))
		if ext != ".pem" && ext != ".crt" && ext != ".cer" {
			continue
		}
		i, err := a.t.Stat(p)
		if err != nil || i.Kind != fstree.KindFile || i.Size > maxCertFile {
			continue
		}
		data, err := a.t.ReadFile(p)
		if err != nil {
			continue
		}
		der, ok := singleCert(data)
		if !ok {
			continue
		}
		certDER, subject, err := rawSubject(der)
		if err != nil {
			continue
		}
		fp := sha1.Sum(certDER)
		if fingerprints[fp] {
			continue
		}
		fingerprints[fp] = true
		h, err := nameHash(subject)
		if err != nil {
			continue
		}
		entries = append(entries, entry{file: name, hash: h})
	}
	next := map[uint32]int{}
	for _, e := range entries {
		link := fmt.Sprintf("%s/%08x.%d", dir, e.hash, next[e.hash])
		next[e.hash]++
		if err := a.replaceSymlink(e.file, link); err != nil {
			return err
		}
	}
	return nil
}

// isHashLink matches the names rehash manages: 8 hex digits, ".", an
// optional "r" and digits.
func isHashLink(name string) bool {
	if len(name) < 10 || name[8] != '.' {
		return false
	}
	for _, c := range name[:8] {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	rest := strings.TrimPrefix(name[9:], "r")
	return rest != "" && allDigits(rest)
}

// singleCert returns the DER of the only certificate of a PEM file; a
// file with more than one object (a bundle) or none is skipped, as rehash
// does.
func singleCert(data []byte) ([]byte, bool) {
	var der []byte
	n := 0
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		switch b.Type {
		case "CERTIFICATE", "TRUSTED CERTIFICATE", "X509 CERTIFICATE":
			der = b.Bytes
			n++
		case "X509 CRL":
			n++
		}
	}
	return der, n == 1 && der != nil
}
