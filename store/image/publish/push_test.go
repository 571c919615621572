package publish

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/rootfsd/rootfsd/store/image"
)

// registry is Debian's docker-registry (distribution) on 127.0.0.1.
type registry struct {
	addr string
	cmd  *exec.Cmd
}

// startRegistry starts docker-registry on a free port with a temporary
// config and storage; with user set, it requires basic auth (htpasswd). The
// process is stopped by its PID at the end of the test.
func startRegistry(t *testing.T, user, password string) *registry {
	t.Helper()
	bin := lookTool(t, "docker-registry")
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cfg := fmt.Sprintf("version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n",
		filepath.Join(dir, "data"), addr)
	if user != "" {
		hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		htpasswd := filepath.Join(dir, "htpasswd")
		if err := os.WriteFile(htpasswd, []byte(user+":"+string(hash)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg += fmt.Sprintf("auth:\n  htpasswd:\n    realm: test\n    path: %s\n", htpasswd)
	}
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", cfgPath)
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := &registry{addr: addr, cmd: cmd}
	t.Cleanup(func() {
		cmd.Process.Kill() // by PID: the process this test started
		cmd.Wait()
		if t.Failed() {
			t.Logf("docker-registry log:\n%s", logs.String())
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("docker-registry did not answer on %s: %v\n%s", addr, err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestPush pushes to a local registry, then reads the image back with
// skopeo and checks the digests: the manifest digest is the one rootfsd
// computed, the config (image ID) and layers are unchanged.
func TestPush(t *testing.T) {
	reg := startRegistry(t, "", "")
	ctx := context.Background()
	path, diffID := writeLayer(t, filepath.Join(t.TempDir(), "layer.tar"), sampleFiles())
	img := newImage(t, path, diffID)
	want, err := img.Manifest(ctx, image.Gzip)
	if err != nil {
		t.Fatal(err)
	}
	ref := "docker://" + reg.addr + "/rootfsd/test:1"
	got, err := Push(ctx, img, ref, PushOptions{Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	if got != want.Digest {
		t.Errorf("pushed manifest %s, want %s", got, want.Digest)
	}
	// Deterministic: a second image from the same layer pushes the same digest.
	again, err := Push(ctx, newImage(t, path, diffID), reg.addr+"/rootfsd/test:2", PushOptions{Insecure: true})
	if err != nil || again != got {
		t.Errorf("second push: %s, %v; want %s", again, err, got)
	}
	// Over TLS (the default) the plain-HTTP registry is refused.
	if _, err := Push(ctx, img, reg.addr+"/rootfsd/test:tls", PushOptions{}); err == nil {
		t.Error("push without Insecure to a plain-HTTP registry succeeded")
	}

	skopeo := lookTool(t, "skopeo")
	var info struct {
		Digest string
		Layers []string
	}
	out := runCmd(t, skopeo, "inspect", "--tls-verify=false", ref)
	if err := json.Unmarshal([]byte(out), &info); err != nil {
		t.Fatal(err)
	}
	if info.Digest != want.Digest || len(info.Layers) != 1 || info.Layers[0] != want.Layers[0].Digest.String() {
		t.Errorf("skopeo inspect: %+v, want %s with layer %s", info, want.Digest, want.Layers[0].Digest)
	}
	cfg := runCmd(t, skopeo, "inspect", "--tls-verify=false", "--raw", "--config", ref)
	if strings.TrimSpace(cfg) != string(img.Config()) {
		t.Errorf("registry config differs:\n%s", cfg)
	}
	// Pull it back into a layout.
	dir := filepath.Join(t.TempDir(), "pulled")
	runCmd(t, skopeo, "copy", "--src-tls-verify=false", "--preserve-digests", ref, "oci:"+dir+":pulled")
	var idx struct{ Manifests []struct{ Digest string } }
	data, _ := os.ReadFile(filepath.Join(dir, "index.json"))
	json.Unmarshal(data, &idx)
	if len(idx.Manifests) != 1 || idx.Manifests[0].Digest != want.Digest {
		t.Errorf("pulled %s, want %s", data, want.Digest)
	}
}

// TestPushAuth pushes to a registry that requires a password, with the
// credentials in an auth file as podman login writes it.
func TestPushAuth(t *testing.T) {
	reg := startRegistry(t, "builder", "s3cret")
	ctx := context.Background()
	path, diffID := writeLayer(t, filepath.Join(t.TempDir(), "layer.tar"), sampleFiles())
	img := newImage(t, path, diffID)
	ref := reg.addr + "/rootfsd/auth:1"
	empty := filepath.Join(t.TempDir(), "empty.json")
	os.WriteFile(empty, []byte(`{"auths":{}}`), 0o600)
	if _, err := Push(ctx, img, ref, PushOptions{Insecure: true, AuthFile: empty}); err == nil {
		t.Fatal("push without credentials succeeded")
	}
	auth := filepath.Join(t.TempDir(), "auth.json")
	cred := base64.StdEncoding.EncodeToString([]byte("builder:s3cret"))
	os.WriteFile(auth, []byte(`{"auths":{"`+reg.addr+`":{"auth":"`+cred+`"}}}`), 0o600)
	if _, err := Push(ctx, img, ref, PushOptions{Insecure: true, AuthFile: auth}); err != nil {
		t.Fatalf("push with credentials: %v", err)
	}
	t.Setenv("REGISTRY_AUTH_FILE", auth)
	if _, err := Push(ctx, img, reg.addr+"/rootfsd/auth:2", PushOptions{Insecure: true}); err != nil {
		t.Fatalf("push with REGISTRY_AUTH_FILE: %v", err)
	}
	if _, err := Push(ctx, img, "docker://UPPER/x", PushOptions{}); err == nil {
		t.Error("invalid reference accepted")
	}
}
