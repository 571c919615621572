package deb

import (
	"bytes"
	"embed"
	"fmt"
	"path"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
)

// keyrings holds the archive keys of the distributions rootfsd knows; see
// keyrings/README.md for where each file comes from.
//
//go:embed keyrings/*.gpg
var keyrings embed.FS

// keyringFiles is the pattern of the embedded files a keyring is made of.
func keyringFiles(name string) (string, bool) {
	switch name {
	case "debian":
		return "debian-archive-*.gpg", true
	case "ubuntu":
		return "ubuntu-archive-keyring.gpg", true
	}
	return "", false
}

// maxKeyringSize bounds a keyring given by a user (signed-by).
const maxKeyringSize = 4 << 20

// KeyringNames lists the names Keyring accepts.
func KeyringNames() []string { return []string{"debian", "ubuntu"} }

// Keyring returns the embedded archive keyring of a distribution, "debian"
// or "ubuntu". Each call parses afresh, so callers may modify the result.
func Keyring(name string) (openpgp.EntityList, error) {
	pattern, ok := keyringFiles(name)
	if !ok {
		return nil, fmt.Errorf("deb: no embedded keyring %q: use one of %s", name, strings.Join(KeyringNames(), ", "))
	}
	files, err := keyrings.ReadDir("keyrings")
	if err != nil {
		return nil, fmt.Errorf("deb: embedded keyrings: %w", err)
	}
	var all openpgp.EntityList
	for _, f := range files {
		if ok, _ := path.Match(pattern, f.Name()); !ok {
			continue
		}
		data, err := keyrings.ReadFile("keyrings/" + f.Name())
		if err != nil {
			return nil, fmt.Errorf("deb: keyring %s: %w", f.Name(), err)
		}
		el, err := ReadKeyring(data)
		if err != nil {
			return nil, fmt.Errorf("deb: keyring %s: %w", f.Name(), err)
		}
		all = append(all, el...)
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("deb: keyring %q: no keys embedded", name)
	}
	return all, nil
}

// ReadKeyring parses OpenPGP public keys, binary (a .gpg keyring as apt
// uses) or ASCII-armored (a .asc file, as third-party repositories
// publish), for a source's signed-by. Several armored blocks may follow
// each other. Secret key material is refused: a keyring only verifies.
func ReadKeyring(data []byte) (openpgp.EntityList, error) {
	if len(data) > maxKeyringSize {
		return nil, fmt.Errorf("keyring: %d bytes, more than %d", len(data), maxKeyringSize)
	}
	var el openpgp.EntityList
	if bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte(armorBegin)) {
		for _, blk := range armorBlocks(data) {
			block, err := armor.Decode(bytes.NewReader(blk))
			if err != nil {
				return nil, fmt.Errorf("keyring: armor: %w", err)
			}
			if block.Type != openpgp.PublicKeyType {
				return nil, fmt.Errorf("keyring: armored %q, want %q", block.Type, openpgp.PublicKeyType)
			}
			got, err := openpgp.ReadKeyRing(block.Body)
			if err != nil {
				return nil, fmt.Errorf("keyring: %w", err)
			}
			el = append(el, got...)
		}
	} else {
		var err error
		if el, err = openpgp.ReadKeyRing(bytes.NewReader(data)); err != nil {
			return nil, fmt.Errorf("keyring: %w", err)
		}
	}
	if len(el) == 0 {
		return nil, fmt.Errorf("keyring: no public keys")
	}
	for _, e := range el {
		if e.PrivateKey != nil {
			return nil, fmt.Errorf("keyring: key %X holds secret key material", e.PrimaryKey.Fingerprint)
		}
	}
	return el, nil
}

const (
	armorBegin = "-----BEGIN "
	armorEnd   = "-----END "
)

// armorBlocks splits data into its armored blocks, each from its BEGIN line
// to the end of its END line (armor.Decode reads ahead, so it cannot be
// called twice on one reader).
func armorBlocks(data []byte) [][]byte {
	var out [][]byte
	for {
		i := bytes.Index(data, []byte(armorBegin))
		if i < 0 {
			return out
		}
		data = data[i:]
		j := bytes.Index(data, []byte(armorEnd))
		if j < 0 {
			return append(out, data) // armor.Decode reports it
		}
		k := bytes.IndexByte(data[j:], '\n')
		if k < 0 {
			return append(out, data)
		}
		out = append(out, data[:j+k+1])
		data = data[j+k+1:]
	}
}

// Fingerprints lists the primary key fingerprints of a keyring, upper-case
// hex, for messages and `rootfsd keys`.
func Fingerprints(el openpgp.EntityList) []string {
	out := make([]string, len(el))
	for i, e := range el {
		out[i] = fmt.Sprintf("%X", e.PrimaryKey.Fingerprint)
	}
	return out
}
