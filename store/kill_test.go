package store

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// TestKillAnywhere kills writers at random moments (while streaming,
// renaming, or committing metadata) and checks after each kill that the
// store is consistent. ROOTFSD_STORE_KILLS sets the number of rounds.
func TestKillAnywhere(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	rounds := 6
	if n, err := strconv.Atoi(os.Getenv("ROOTFSD_STORE_KILLS")); err == nil {
		rounds = n
	}
	ctx := context.Background()
	dir := t.TempDir()
	var midWrite, unrecorded, blobs int
	defer func() {
		t.Logf("%d kills: %d mid-write, %d between rename and commit; %d blobs written", rounds, midWrite, unrecorded, blobs)
	}()
	for i := range rounds {
		cmd := child(t, "loop", dir, i, io.Discard)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(20+rand.IntN(80)) * time.Millisecond)
		killChild(t, cmd)
		if names, _ := os.ReadDir(filepath.Join(dir, tmpDir)); len(names) > 0 {
			midWrite++
		}
		s, err := Open(dir, Options{TempGrace: time.Nanosecond})
		if err != nil {
			t.Fatal(err)
		}
		rep, err := s.Verify(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range rep.Problems {
			if p.Kind != ProblemUnrecorded || !p.Repaired {
				t.Fatalf("round %d: Verify found %+v", i, p)
			}
			unrecorded++
		}
		blobs = rep.Blobs.Files
		if names := dirNames(t, s, tmpDir); len(names) != 0 {
			t.Fatalf("round %d: tmp/ holds %v", i, names)
		}
	}
}

func killChild(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child %s was not killed: %v\n%s", cmd.Env[len(cmd.Env)-3], err, cmd.Stderr)
	}
}
