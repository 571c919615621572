package check

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// buildGo compiles a static, stripped Go program into the tree at dest.
func buildGo(t *testing.T, root, dest, src string) {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go toolchain")
	}
	dir := t.TempDir()
	write(t, dir, "go.mod", "module x\ngo 1.22\n", 0o644)
	write(t, dir, "main.go", src, 0o644)
	cmd := exec.Command(gobin, "build", "-trimpath", "-ldflags=-s -w", "-o", filepath.Join(root, dest), ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
}

// A static Go program in a scratch tree: it needs a CA bundle to dial TLS
// and timezone data to load locations, unless it embeds time/tzdata.
func TestStaticGoProgram(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go program")
	}
	root := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(root, "tmp"), 0o755))
	must(t, os.Chmod(filepath.Join(root, "tmp"), 0o777|os.ModeSticky))
	buildGo(t, root, "app", `package main

import (
	"crypto/tls"
	"fmt"
	"time"
)

func main() {
	_, err := tls.Dial("tcp", "127.0.0.1:1", nil)
	_, err2 := time.LoadLocation("Europe/Berlin")
	fmt.Println(err, err2)
}
`)
	cfg := &ImageConfig{Entrypoint: []string{"/app"}}
	want := []string{"missing-timezone /usr/share/zoneinfo (timezone data) is missing /app", "no-ca-bundle /etc/ssl/certs/ca-certificates.crt /app"}
	if d := cmp.Diff(want, summary(runDir(t, root, Options{Config: cfg}))); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	buildGo(t, root, "app", `package main

import (
	"fmt"
	"time"
	_ "time/tzdata"
)

func main() { fmt.Println(time.LoadLocation("Europe/Berlin")) }
`)
	if got := runDir(t, root, Options{Config: cfg}); len(got) != 0 {
		t.Errorf("a program embedding tzdata: %s", strings.Join(summary(got), "; "))
	}
}
