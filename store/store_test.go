package store

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"go.etcd.io/bbolt"
)

func TestOpenLayout(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{blobsDir, tmpDir, locksDir, quarantineDir, metaFile, metaLockFile} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Error(err)
		}
	}
	if names := dirNames(t, s, tmpDir); len(names) != 0 {
		t.Errorf("tmp/ after Open: %v", names)
	}
	if err := s.SetMeta("ns", "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	again, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if v, err := again.GetMeta("ns", "k"); err != nil || string(v) != "v" {
		t.Errorf("reopened GetMeta = %q, %v", v, err)
	}
	if _, err := Open(filepath.Join(dir, "absent"), Options{ReadOnly: true}); err == nil {
		t.Error("read-only Open of a missing store succeeded")
	}
}

func TestOpenRefusesNewerLayout(t *testing.T) {
	s := newStore(t, Options{})
	err := s.update(context.Background(), func(tx *bbolt.Tx) error {
		return tx.Bucket(bktLayout).Put([]byte("version"), []byte("2"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(s.Dir(), Options{ReadOnly: true}); err == nil || !strings.Contains(err.Error(), "layout version") {
		t.Errorf("Open of a newer layout: %v", err)
	}
}

func TestDefaultDir(t *testing.T) {
	tests := []struct {
		euid    int
		env     map[string]string
		want    string
		wantErr bool
	}{
		{euid: 0, env: map[string]string{"HOME": "/root"}, want: "/var/cache/rootfsd"},
		{euid: 1000, env: map[string]string{"HOME": "/home/u"}, want: "/home/u/.cache/rootfsd"},
		{euid: 1000, env: map[string]string{"HOME": "/home/u", "XDG_CACHE_HOME": "/xdg"}, want: "/xdg/rootfsd"},
		{euid: 1000, env: map[string]string{"HOME": "/home/u", "XDG_CACHE_HOME": "rel"}, want: "/home/u/.cache/rootfsd"},
		{euid: 1000, env: map[string]string{}, wantErr: true},
	}
	for _, tt := range tests {
		got, err := defaultDir(tt.euid, func(k string) string { return tt.env[k] })
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("defaultDir(%d, %v) = %q, %v; want %q", tt.euid, tt.env, got, err, tt.want)
		}
	}
}

func TestPathAndHas(t *testing.T) {
	s := newStore(t, Options{})
	d := digestOf([]byte("x"))
	if got, want := s.Path("sha256:"+d), filepath.Join(s.Dir(), "blobs", "sha256", d); got != want {
		t.Errorf("Path = %q, want %q", got, want)
	}
	for _, bad := range []string{"", "../x", d[:63], d + "0", strings.Repeat("g", 64), "md5:" + d} {
		if s.Path(bad) != "" || s.Has(bad) {
			t.Errorf("Path/Has accepted %q", bad)
		}
	}
	if s.Has(d) {
		t.Error("Has of an absent blob")
	}
}

func TestUsage(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, Options{})
	for i, l := range []Label{{Kind: KindPackage}, {Kind: KindPackage, Ref: "lock"}, {Kind: KindLayer}, {}} {
		if _, err := s.PutBlob(ctx, bytes.NewReader(content(uint64(50+i), 100*(i+1))), "", -1, l); err != nil {
			t.Fatal(err)
		}
	}
	u, err := s.Usage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	u.MetaBytes = 0
	want := Usage{
		Blobs:      Count{4, 1000},
		Kinds:      map[string]Count{KindPackage: {2, 300}, KindLayer: {1, 300}, "": {1, 400}},
		Referenced: Count{1, 200},
	}
	if diff := cmp.Diff(want, u); diff != "" {
		t.Errorf("Usage (-want +got):\n%s", diff)
	}
}

// Leftover temporary files go once older than the grace period, unless a
// live writer still holds them.
func TestTempCleanup(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-2 * time.Hour)
	dead := s.tempName("put-")
	// Read-only, as a writer leaves it between chmod and rename.
	if err := os.WriteFile(dead, []byte("partial"), 0o444); err != nil {
		t.Fatal(err)
	}
	fresh := s.tempName("put-")
	if err := os.WriteFile(fresh, []byte("partial"), 0o600); err != nil {
		t.Fatal(err)
	}
	live, err := s.createTemp("put-")
	if err != nil {
		t.Fatal(err)
	}
	defer unflock(live)
	for _, p := range []string{dead, live.Name()} {
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Open(dir, Options{}); err != nil {
		t.Fatal(err)
	}
	got := dirNames(t, s, tmpDir)
	want := []string{filepath.Base(fresh), filepath.Base(live.Name())}
	if diff := cmp.Diff(want, got, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("tmp/ after Open (-want +got):\n%s", diff)
	}
}

// A user who cannot write the cache directory gets a clear permission
// error from Open and can still read the store opened read-only. As root
// the test runs itself again as the unprivileged user 65534.
func TestPermissionDenied(t *testing.T) {
	ctx := context.Background()
	base := t.TempDir()
	dir := filepath.Join(base, "cache")
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Put(ctx, bytes.NewReader([]byte("blob")), "", -1); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() != 0 {
		setWritable(t, dir, false)
		defer setWritable(t, dir, true)
		msg, err := childPerm(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(msg, "is not writable by uid") {
			t.Errorf("permission error does not say who cannot write: %s", msg)
		}
		return
	}
	// Make the path and a copy of the test binary reachable for uid 65534;
	// the store itself stays root's, mode 0755.
	for _, p := range []string{filepath.Dir(base), base} {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(base, "store.test")
	if err := copyFile(exe, bin); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd := exec.Command(bin)
	cmd.Env = []string{childEnv + "=perm", childDir + "=" + dir}
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Skipf("cannot run as uid 65534: %v", err)
		}
		t.Fatalf("unprivileged child: %v\n%s", err, out.String())
	}
	t.Logf("unprivileged child: %s", out.String())
	if strings.Count(out.String(), "is not writable by uid 65534") != 2 {
		t.Errorf("permission error does not say who cannot write: %s", out.String())
	}
}

// setWritable adds or removes the owner's write permission on everything
// below dir.
func setWritable(t *testing.T, dir string, w bool) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		mode := fi.Mode().Perm() &^ 0o222
		if w {
			mode |= 0o200
		}
		return os.Chmod(p, mode)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
