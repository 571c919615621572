package api

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The committed generated code is what generate.sh makes from the proto
// with the pinned generators, byte for byte.
func TestGeneratedCodeIsCurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	out, err := exec.Command("protoc", "--version").Output()
	if err != nil || strings.TrimSpace(string(out)) != "libprotoc 3.21.12" {
		t.Skipf("SKIP (loud): protoc 3.21.12 (Debian's protobuf-compiler) not installed (%q, %v)", out, err)
	}
	dir := t.TempDir()
	cmd := exec.Command("sh", "generate.sh", dir)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("generate.sh: %v\n%s", err, msg)
	}
	for _, f := range []string{"rootfsd/v1/rootfsd.pb.go", "rootfsd/v1/rootfsdv1connect/rootfsd.connect.go"} {
		want, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from what generate.sh makes: run make generate", f)
		}
	}
}
