package store

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestLockExcludes(t *testing.T) {
	s := newStore(t, Options{})
	ctx := context.Background()
	var inside, most atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				unlock, err := s.Lock(ctx, "download-libc6")
				if err != nil {
					t.Error(err)
					return
				}
				n := inside.Add(1)
				if n > most.Load() {
					most.Store(n)
				}
				time.Sleep(50 * time.Microsecond)
				inside.Add(-1)
				unlock()
				unlock() // idempotent
			}
		}()
	}
	wg.Wait()
	if most.Load() != 1 {
		t.Errorf("%d holders at once", most.Load())
	}
}

func TestLockWaitsForContext(t *testing.T) {
	s := newStore(t, Options{})
	unlock, err := s.Lock(context.Background(), "layer-abc")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := s.Lock(ctx, "layer-abc"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock of a held lock: %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Lock gave up after %v", d)
	}
	// Other names are independent; the lock is free again once released.
	other, err := s.Lock(context.Background(), "layer-def")
	if err != nil {
		t.Fatal(err)
	}
	other()
	done := make(chan error)
	go func() {
		u, err := s.Lock(context.Background(), "layer-abc")
		if err == nil {
			u()
		}
		done <- err
	}()
	time.Sleep(10 * time.Millisecond)
	unlock()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestLockNames(t *testing.T) {
	s := newStore(t, Options{})
	for _, name := range []string{"", ".", "..", ".hidden", "a/b", "../x", "a b", string(make([]byte, 201))} {
		if _, err := s.Lock(context.Background(), name); !errors.Is(err, ErrInvalid) {
			t.Errorf("Lock(%q): %v, want ErrInvalid", clip(name), err)
		}
	}
}

// The metadata lock times out with ErrLockTimeout when another process
// (here: another open file) holds it too long.
func TestMetaLockTimeout(t *testing.T) {
	dir := t.TempDir()
	holder, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir, Options{LockTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	release, err := holder.metaLock(context.Background(), true)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if err := s.SetMeta("ns", "k", nil); !errors.Is(err, ErrLockTimeout) {
		t.Errorf("SetMeta while another holds meta.lock: %v, want ErrLockTimeout", err)
	}
	if _, err := s.GetMeta("ns", "k"); !errors.Is(err, ErrLockTimeout) {
		t.Errorf("GetMeta while another writes: %v, want ErrLockTimeout", err)
	}
}
