package apk

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The per-architecture sets of alpine-keys 2.4-r1 (fixtures README, Keys).
func TestDefaultKeyring(t *testing.T) {
	want := map[string][]string{
		"x86_64": {"4a6a0840", "5261cecb", "6165ee59"}, "x86": {"4a6a0840", "5243ef4b", "61666e3f"},
		"aarch64": {"58199dcc", "616ae350"}, "armhf": {"524d27bb", "616a9724"}, "armv7": {"524d27bb", "616adfeb"},
		"ppc64le": {"58cbb476", "616abc23"}, "s390x": {"58e4f17d", "616ac3bc"}, "riscv64": {"60ac2099", "616db30d"},
		"mips64": {"5e69ca50"},
	}
	got := map[string][]string{}
	for _, arch := range KeyArches() {
		k, err := DefaultKeyring(arch)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range k.Names() {
			got[arch] = append(got[arch], keyID(n))
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("key sets (-want +got):\n%s", diff)
	}
	if _, err := DefaultKeyring("sparc"); err == nil {
		t.Error("unknown architecture accepted")
	}
}

// The embedded keys are the fixture files, byte for byte; 9 are RSA-2048
// and 8 RSA-4096.
func TestEmbeddedKeys(t *testing.T) {
	all := AllKeys()
	if all.Len() != 17 {
		t.Fatalf("%d embedded keys", all.Len())
	}
	bits := map[int]int{}
	for _, n := range all.Names() {
		key, _ := all.Lookup(n)
		bits[key.N.BitLen()]++
		name, data, err := EmbeddedKey(keyID(n))
		if err != nil || name != n {
			t.Fatalf("EmbeddedKey(%s) = %s, %v", keyID(n), name, err)
		}
		if !bytes.Equal(data, readFixture(t, "keys/"+n)) {
			t.Errorf("%s differs from the fixture key", n)
		}
	}
	if diff := cmp.Diff(map[int]int{2048: 9, 4096: 8}, bits); diff != "" {
		t.Errorf("key sizes (-want +got):\n%s", diff)
	}
}

func TestKeyFiles(t *testing.T) {
	a, _ := testSigners(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "extra.rsa.pub")
	if err := os.WriteFile(file, a.publicPEM(t), 0o644); err != nil {
		t.Fatal(err)
	}
	k := NewKeyring()
	if err := k.AddFile(file); err != nil {
		t.Fatal(err)
	}
	if _, ok := k.Lookup("extra.rsa.pub"); !ok {
		t.Error("key not trusted under its file name")
	}
	for name, data := range map[string][]byte{
		"not-pem":  []byte("hello"),
		"cert":     []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
		"too-big":  bytes.Repeat([]byte("x"), maxKeyFile+1),
		"bad-pkix": []byte("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"),
	} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, data, 0o644)
		if err := k.AddFile(p); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
	if err := k.AddFile(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}
