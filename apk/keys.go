package apk

import (
	"crypto/rsa"
	"crypto/x509"
	"embed"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// The public keys of alpine-keys 2.4-r1 (usr/share/apk/keys), MIT licensed.
// An index or package names its signing key by file name (".SIGN.RSA.<file
// name>"), so keys are kept under their upstream file names.
//
//go:embed keys/*.rsa.pub
var embeddedKeys embed.FS

// ErrUntrustedKey is wrapped when a signature names a key the keyring does
// not hold.
var ErrUntrustedKey = errors.New("signed by an untrusted key")

// maxKeyFile bounds a key file read from disk.
const maxKeyFile = 64 << 10

// Keyring holds trusted RSA public keys by file name. The zero value is
// not usable; use NewKeyring, DefaultKeyring or AllKeys.
type Keyring struct {
	keys map[string]*rsa.PublicKey
}

// NewKeyring returns an empty keyring.
func NewKeyring() *Keyring { return &Keyring{keys: map[string]*rsa.PublicKey{}} }

// Add trusts the PEM-encoded RSA public key (PKIX "PUBLIC KEY" or PKCS#1
// "RSA PUBLIC KEY") under name, the file name signatures refer to it by.
func (k *Keyring) Add(name string, pemData []byte) error {
	if name == "" || strings.ContainsAny(name, "/\x00") {
		return fmt.Errorf("apk: key name %q: must be a plain file name", name)
	}
	block, _ := pem.Decode(pemData)
	if block == nil {
		return fmt.Errorf("apk: key %s: no PEM block", name)
	}
	var pub *rsa.PublicKey
	switch block.Type {
	case "PUBLIC KEY":
		key, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return fmt.Errorf("apk: key %s: %w", name, err)
		}
		rk, ok := key.(*rsa.PublicKey)
		if !ok {
			return fmt.Errorf("apk: key %s: %T is not an RSA key", name, key)
		}
		pub = rk
	case "RSA PUBLIC KEY":
		rk, err := x509.ParsePKCS1PublicKey(block.Bytes)
		if err != nil {
			return fmt.Errorf("apk: key %s: %w", name, err)
		}
		pub = rk
	default:
		return fmt.Errorf("apk: key %s: PEM type %q, want PUBLIC KEY", name, block.Type)
	}
	if pub.N.BitLen() < 2048 {
		return fmt.Errorf("apk: key %s: %d-bit RSA is too weak", name, pub.N.BitLen())
	}
	k.keys[name] = pub
	return nil
}

// AddFile trusts the key in file path under its base name, as
// `apk --keys-dir` does (the `--key FILE` option of rootfsd).
func (k *Keyring) AddFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("apk: key file: %w", err)
	}
	defer f.Close()
	data := make([]byte, maxKeyFile+1)
	n, err := readFull(f, data)
	if err != nil {
		return fmt.Errorf("apk: key file %s: %w", path, err)
	}
	if n > maxKeyFile {
		return fmt.Errorf("apk: key file %s: larger than %d bytes", path, maxKeyFile)
	}
	return k.Add(filepath.Base(path), data[:n])
}

// Lookup returns the key trusted under name.
func (k *Keyring) Lookup(name string) (*rsa.PublicKey, bool) {
	if k == nil {
		return nil, false
	}
	key, ok := k.keys[name]
	return key, ok
}

// Names lists the trusted key file names, sorted.
func (k *Keyring) Names() []string {
	names := make([]string, 0, len(k.keys))
	for n := range k.keys {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Len is the number of trusted keys.
func (k *Keyring) Len() int { return len(k.keys) }

// archKeyIDs lists the key IDs alpine-keys installs for an architecture
// (the usr/share/apk/keys/<arch>/ links of alpine-keys 2.4-r1).
func archKeyIDs(arch string) []string {
	switch arch {
	case "x86_64":
		return []string{"4a6a0840", "5261cecb", "6165ee59"}
	case "x86":
		return []string{"4a6a0840", "5243ef4b", "61666e3f"}
	case "aarch64":
		return []string{"58199dcc", "616ae350"}
	case "armhf":
		return []string{"524d27bb", "616a9724"}
	case "armv7":
		return []string{"524d27bb", "616adfeb"}
	case "ppc64le":
		return []string{"58cbb476", "616abc23"}
	case "s390x":
		return []string{"58e4f17d", "616ac3bc"}
	case "riscv64":
		return []string{"60ac2099", "616db30d"}
	case "mips64":
		return []string{"5e69ca50"}
	}
	return nil
}

// KeyArches lists the architectures DefaultKeyring knows.
func KeyArches() []string {
	return []string{"aarch64", "armhf", "armv7", "mips64", "ppc64le", "riscv64", "s390x", "x86", "x86_64"}
}

// DefaultKeyring returns the embedded keys that sign arch's repositories.
func DefaultKeyring(arch string) (*Keyring, error) {
	ids := archKeyIDs(arch)
	if ids == nil {
		return nil, fmt.Errorf("apk: no embedded keys for architecture %q (known: %s); pass the signing key with --key",
			arch, strings.Join(KeyArches(), ", "))
	}
	all := AllKeys()
	k := NewKeyring()
	for name, key := range all.keys {
		for _, id := range ids {
			if strings.HasSuffix(name, "-"+id+".rsa.pub") {
				k.keys[name] = key
			}
		}
	}
	if k.Len() != len(ids) {
		return nil, fmt.Errorf("apk: embedded keys for %s: found %d of %d", arch, k.Len(), len(ids))
	}
	return k, nil
}

// AllKeys returns a keyring with every embedded key.
func AllKeys() *Keyring {
	k := NewKeyring()
	err := fs.WalkDir(embeddedKeys, "keys", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := embeddedKeys.ReadFile(path)
		if err != nil {
			return err
		}
		return k.Add(d.Name(), data)
	})
	if err != nil {
		panic("apk: embedded keys: " + err.Error()) // a build defect, covered by tests
	}
	return k
}

// EmbeddedKey returns the PEM file of the embedded key whose file name ends
// in "-<id>.rsa.pub", with its file name.
func EmbeddedKey(id string) (name string, pemData []byte, err error) {
	entries, err := embeddedKeys.ReadDir("keys")
	if err != nil {
		return "", nil, err
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), "-"+id+".rsa.pub") {
			data, err := embeddedKeys.ReadFile("keys/" + e.Name())
			return e.Name(), data, err
		}
	}
	return "", nil, fmt.Errorf("apk: no embedded key with id %q", id)
}
