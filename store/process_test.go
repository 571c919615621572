package store

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Environment of a child process: the mode, the store directory, an id.
const (
	childEnv   = "ROOTFSD_STORE_TEST_CHILD"
	childDir   = "ROOTFSD_STORE_TEST_DIR"
	childID    = "ROOTFSD_STORE_TEST_ID"
	hammerPuts = 25
	sharedBlob = 5 // blobs every hammering child writes
)

// hammerContent is what child id puts in round i; rounds modulo sharedBlob
// also put content shared by all children.
func hammerContent(id, i int) []byte {
	return content(uint64(1000*id+i), 4096+37*i)
}

func sharedContent(i int) []byte { return content(uint64(1_000_000+i%sharedBlob), 200_000) }

func runChild(mode string) int {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := os.Getenv(childDir)
	id, _ := strconv.Atoi(os.Getenv(childID))
	if err := childMain(ctx, mode, dir, id); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	return 0
}

func childMain(ctx context.Context, mode, dir string, id int) error {
	switch mode {
	case "perm":
		msg, err := childPerm(ctx, dir)
		fmt.Println(msg)
		return err
	}
	s, err := Open(dir, Options{})
	if err != nil {
		return err
	}
	switch mode {
	case "hammer":
		return childHammer(ctx, s, id)
	case "stall":
		// Write part of a blob, say so, and wait to be killed.
		r := io.MultiReader(bytes.NewReader(content(7, 1<<20)), stallReader{})
		_, _, err := s.Put(ctx, r, "", -1)
		return err
	case "loop":
		for i := 0; ; i++ {
			if _, _, err := s.Put(ctx, bytes.NewReader(content(uint64(5000+i), 64<<10)), "", -1); err != nil {
				return err
			}
			if err := s.SetMeta("loop", strconv.Itoa(i), []byte("x")); err != nil {
				return err
			}
		}
	}
	return fmt.Errorf("unknown mode %q", mode)
}

// stallReader announces that a Put is under way, then blocks.
type stallReader struct{}

func (stallReader) Read([]byte) (int, error) {
	fmt.Println("mid-write")
	time.Sleep(time.Hour)
	return 0, io.ErrUnexpectedEOF
}

func childHammer(ctx context.Context, s *Store, id int) error {
	for i := range hammerPuts {
		own := hammerContent(id, i)
		d, _, err := s.Put(ctx, bytes.NewReader(own), digestOf(own), int64(len(own)))
		if err != nil {
			return err
		}
		sh := sharedContent(i)
		sd, _, err := s.Put(ctx, bytes.NewReader(sh), "", -1)
		if err != nil {
			return err
		}
		for _, dd := range []string{d, sd} {
			r, err := s.Open(ctx, dd)
			if err != nil {
				return err
			}
			if _, err := io.Copy(io.Discard, r); err != nil {
				return err
			}
			r.Close()
		}
		if err := s.AddRef(ctx, "child-"+strconv.Itoa(id), d); err != nil {
			return err
		}
		if err := s.SetMeta("child", strconv.Itoa(id), []byte(strconv.Itoa(i))); err != nil {
			return err
		}
		if err := bumpCounter(ctx, s); err != nil {
			return err
		}
	}
	return s.Close()
}

// bumpCounter increments a file under Lock: lost updates would show that
// Lock does not exclude across processes.
func bumpCounter(ctx context.Context, s *Store) error {
	unlock, err := s.Lock(ctx, "counter")
	if err != nil {
		return err
	}
	defer unlock()
	p := filepath.Join(s.Dir(), "counter")
	b, err := os.ReadFile(p)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	n, _ := strconv.Atoi(string(b))
	return os.WriteFile(p, []byte(strconv.Itoa(n+1)), 0o644)
}

// childPerm runs unprivileged against a store it cannot write. It returns
// the error messages Open gave.
func childPerm(ctx context.Context, dir string) (string, error) {
	var msgs []string
	for _, d := range []string{filepath.Join(dir, "sub"), dir} {
		_, err := Open(d, Options{})
		if !errors.Is(err, fs.ErrPermission) {
			return "", fmt.Errorf("Open of unwritable %s: %v, want a permission error", d, err)
		}
		msgs = append(msgs, err.Error())
	}
	return strings.Join(msgs, "\n"), childReadOnly(ctx, dir)
}

// childReadOnly reads a store it cannot write.
func childReadOnly(ctx context.Context, dir string) error {
	s, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		return err
	}
	blobs, err := s.List(ctx)
	if err != nil || len(blobs) != 1 {
		return fmt.Errorf("read-only List = %v, %v; want one blob", blobs, err)
	}
	r, err := s.Open(ctx, blobs[0].Digest)
	if err != nil {
		return err
	}
	defer r.Close()
	if _, err := io.Copy(io.Discard, r); err != nil {
		return err
	}
	if _, _, err := s.Put(ctx, bytes.NewReader(nil), "", 0); !errors.Is(err, ErrReadOnly) {
		return fmt.Errorf("Put on a read-only store: %v", err)
	}
	return nil
}

// child starts the test binary as a child process in mode.
func child(t *testing.T, mode, dir string, id int, stdout io.Writer) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), childEnv+"="+mode, childDir+"="+dir, childID+"="+strconv.Itoa(id))
	cmd.Stdout = stdout
	cmd.Stderr = &bytes.Buffer{}
	return cmd
}

func TestProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	ctx := context.Background()
	dir := t.TempDir()
	const hammers = 4
	var cmds []*exec.Cmd
	for id := range hammers {
		cmd := child(t, "hammer", dir, id, io.Discard)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	// One child killed in the middle of writing a blob...
	pr, pw := io.Pipe()
	stall := child(t, "stall", dir, 100, pw)
	if err := stall.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil || line != "mid-write\n" {
		t.Fatalf("stalled child said %q, %v", line, err)
	}
	killChild(t, stall)
	pw.Close()
	// ...and one killed wherever it happens to be.
	loop := child(t, "loop", dir, 101, io.Discard)
	if err := loop.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	killChild(t, loop)

	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("hammering child %d: %v\n%s", i, err, cmd.Stderr)
		}
	}
	if t.Failed() {
		return
	}
	if names, _ := os.ReadDir(filepath.Join(dir, tmpDir)); len(names) == 0 {
		t.Error("the killed writer left no temporary file; the test did not kill it mid-write")
	}
	s, err := Open(dir, Options{TempGrace: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	if names := dirNames(t, s, tmpDir); len(names) != 0 {
		t.Errorf("Open left temporary files %v", names)
	}
	rep, err := s.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range rep.Problems {
		// A child killed between rename and commit leaves an unrecorded blob.
		if p.Kind != ProblemUnrecorded || !p.Repaired {
			t.Errorf("Verify found %+v", p)
		}
	}
	if rep, err := s.Verify(ctx); err != nil || len(rep.Problems) != 0 {
		t.Errorf("second Verify = %+v, %v; want no problems", rep, err)
	}
	for id := range hammers {
		for i := range hammerPuts {
			checkBlob(t, s, hammerContent(id, i))
		}
		if b, err := s.GetMeta("child", strconv.Itoa(id)); err != nil || string(b) != strconv.Itoa(hammerPuts-1) {
			t.Errorf("meta of child %d = %q, %v", id, b, err)
		}
	}
	for i := range sharedBlob {
		checkBlob(t, s, sharedContent(i))
	}
	refs, err := s.Refs(ctx)
	if err != nil || len(refs) != hammers || len(refs[0].Digests) != hammerPuts {
		t.Errorf("Refs = %d refs, %v", len(refs), err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "counter")); err != nil || string(b) != strconv.Itoa(hammers*hammerPuts) {
		t.Errorf("counter under Lock = %q, %v; want %d", b, err, hammers*hammerPuts)
	}
}

// checkBlob asserts that data is stored intact.
func checkBlob(t *testing.T, s *Store, data []byte) {
	t.Helper()
	r, err := s.Open(context.Background(), digestOf(data))
	if err != nil {
		t.Error(err)
		return
	}
	defer r.Close()
	got, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("blob %s: read %d bytes, %v", digestOf(data), len(got), err)
	}
}
