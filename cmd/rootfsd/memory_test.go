package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/rootfsd/rootfsd/deb/debtest"
)

// bigArchive serves a signed debian:12 archive of n synthetic packages
// (files each of size bytes, half compressible text, half random) and a
// package "all" that depends on every one, and returns the global flags
// for it and the total size of the packages' files.
func bigArchive(t *testing.T, n, files, size int) ([]string, int64) {
	t.Helper()
	key := debtest.NewKey(t, "rootfsd big test archive", debtest.KeyOptions{})
	rng := rand.New(rand.NewPCG(1, 2))
	served := map[string][]byte{}
	var text strings.Builder
	var total int64
	var deps []string
	add := func(name string, data []byte, depends string) {
		pool := fmt.Sprintf("pool/main/%c/%s/%s_1.0_amd64.deb", name[0], name, name)
		served[pool] = data
		fmt.Fprintf(&text, "Package: %s\nVersion: 1.0\nArchitecture: amd64\nMaintainer: Test <test@localhost>\n", name)
		if depends != "" {
			fmt.Fprintf(&text, "Depends: %s\n", depends)
		}
		fmt.Fprintf(&text, "Priority: optional\nFilename: %s\nSize: %d\nSHA256: %s\nDescription: %s\n\n", pool, len(data), debtest.Sum(data), name)
	}
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("pkg%03d", i)
		dir := "./usr/share/" + name + "/"
		entries := []debtest.DebEntry{{Name: "./usr/", Type: '5'}, {Name: "./usr/share/", Type: '5'}, {Name: dir, Type: '5'}}
		for f := 0; f < files; f++ {
			body := make([]byte, size)
			for j := range body[:size/2] {
				body[j] = byte('a' + (i+j+f)%26)
			}
			for j := size / 2; j < size; j += 8 {
				v := rng.Uint64()
				for k := 0; k < 8 && j+k < size; k++ {
					body[j+k] = byte(v >> (8 * k))
				}
			}
			entries = append(entries, debtest.DebEntry{Name: fmt.Sprintf("%sfile%02d", dir, f), Body: string(body), Mode: 0o644})
			total += int64(size)
		}
		add(name, debtest.MakeDeb(t, debtest.Deb{Package: name, Version: "1.0", Compression: ".gz", Data: entries}), "")
		deps = append(deps, name)
	}
	add("all", debtest.MakeDeb(t, debtest.Deb{Package: "all", Version: "1.0", Compression: ".gz",
		Data: []debtest.DebEntry{{Name: "./usr/", Type: '5'}}}), strings.Join(deps, ", "))
	for i, suite := range []string{"bookworm", "bookworm-updates", "bookworm-security"} {
		pk := ""
		if i == 0 {
			pk = text.String()
		}
		r := &debtest.Repo{Suite: suite, Date: debtest.Epoch(), Arch: "amd64", Packages: map[string]string{"main": pk}, Signers: []*openpgp.Entity{key}}
		for p, b := range r.Build(t) {
			served[p] = b
		}
	}
	srv := debtest.Serve(t, served)
	kr := filepath.Join(t.TempDir(), "archive.gpg")
	if err := os.WriteFile(kr, debtest.PublicKeyring(t, key), 0o644); err != nil {
		t.Fatal(err)
	}
	return []string{"--mirror", srv.URL, "--security-mirror", srv.URL, "--keyring", kr}, total
}

// TestMemoryBounded500Packages builds a rootfs of 500 packages (about
// 64 MiB of files) as a child process and checks that its peak resident
// memory stays far below the size of what it handles: packages, the
// unpacked tree and the layer are streamed, not held.
func TestMemoryBounded500Packages(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIP: -short: the 500-package build takes a few seconds")
	}
	const limitMiB = 400
	flags, total := bigArchive(t, 500, 8, 16<<10)
	dir := t.TempDir()
	out := filepath.Join(dir, "big.tar")
	args := append(append([]string{"--cache-dir", filepath.Join(dir, "cache"), "-q"}, flags...),
		"build", "--distro", "debian:12", "--variant", "custom", "--pkgs", "all", "--output", "tar:"+out)
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "ROOTFSD_TEST_MAIN=1", "ROOTFSD_DAEMON=never")
	var errb strings.Builder
	cmd.Stderr = &errb
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Sample the parts of the child's resident memory while it runs:
	// anonymous (heap, stacks), mapped files, shared memory (tmpfs maps).
	var anon, file, shmem, hwm int64
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	for tick := time.NewTicker(10 * time.Millisecond); ; {
		anon = max(anon, procKB(cmd.Process.Pid, "RssAnon"))
		file = max(file, procKB(cmd.Process.Pid, "RssFile"))
		shmem = max(shmem, procKB(cmd.Process.Pid, "RssShmem"))
		hwm = max(hwm, procKB(cmd.Process.Pid, "VmHWM"))
		select {
		case <-tick.C:
			continue
		case err = <-done:
			tick.Stop()
		}
		break
	}
	if err != nil {
		t.Fatalf("500-package build: %v\n%s", err, errb.String())
	}
	took := time.Since(start)
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		t.Fatal("no rusage for the build")
	}
	peakMiB := ru.Maxrss >> 10 // kB on Linux
	st, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("500 packages, %d MiB of files, layer %d MiB: build took %v, peak RSS %d MiB (bound %d MiB; own VmHWM %d MiB; sampled peaks: anonymous %d MiB, mapped files %d MiB, shared %d MiB)",
		total>>20, st.Size()>>20, took.Round(time.Millisecond), peakMiB, limitMiB, hwm>>10, anon>>10, file>>10, shmem>>10)
	if st.Size() < total {
		t.Errorf("layer is %d bytes, less than the %d bytes of files", st.Size(), total)
	}
	if peakMiB >= limitMiB {
		t.Errorf("peak RSS %d MiB, want < %d MiB", peakMiB, limitMiB)
	}
}
