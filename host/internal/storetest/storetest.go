// Package storetest is the behaviour every deviceflow store shares, as
// tests: Get, Set and Delete, the compare-and-swap and the lease (see
// host.Store, host.Swapper and host.Locker). The host's own stores and the
// stores under host/store run it, so a store cannot drift from the others.
//
// It imports nothing of the host (the host's own tests use it): a Suite
// carries the sentinel errors it checks for.
package storetest

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Store is the part of host.Store the contract checks.
type Store interface {
	Get(ctx context.Context, key string) (string, error)
	Set(ctx context.Context, key, value string) error
	Delete(ctx context.Context, key string) error
}

// Full is a store with the compare-and-swap and the lease (host.Swapper
// and host.Locker).
type Full interface {
	Store
	Swap(ctx context.Context, key string, old, new *string) (swapped bool, current *string, err error)
	Lock(ctx context.Context, key string, wait time.Duration) (unlock func(), err error)
}

// Suite checks stores against the host's sentinel errors.
type Suite struct {
	// NoEntry is host.ErrNoEntry: Get's error for a missing key.
	NoEntry error
	// Busy is host.ErrBusy: Lock's error when another holder kept the
	// lease for the whole wait.
	Busy error
}

func sp(s string) *string { return &s }

// Contract checks the behaviour every Store shares.
func (suite Suite) Contract(t testing.TB, s Store) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.Get(ctx, "a"); !errors.Is(err, suite.NoEntry) {
		t.Fatalf("Get of a missing key: %v, want suite.NoEntry", err)
	}
	if err := s.Delete(ctx, "a"); err != nil {
		t.Fatalf("Delete of a missing key: %v", err)
	}
	for _, kv := range [][2]string{{"a", "1"}, {"b", `{"token":"x","n":2}`}, {"a", "3"}, {"ünï/cødé key", "välue\n"}} {
		if err := s.Set(ctx, kv[0], kv[1]); err != nil {
			t.Fatalf("Set(%q): %v", kv[0], err)
		}
	}
	for k, want := range map[string]string{"a": "3", "b": `{"token":"x","n":2}`, "ünï/cødé key": "välue\n"} {
		if got, err := s.Get(ctx, k); err != nil || got != want {
			t.Fatalf("Get(%q) = %q, %v; want %q", k, got, err, want)
		}
	}
	if err := s.Delete(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "a"); !errors.Is(err, suite.NoEntry) {
		t.Fatalf("Get after Delete: %v, want suite.NoEntry", err)
	}
	if got, _ := s.Get(ctx, "b"); got == "" {
		t.Fatal("Delete removed another key")
	}
}

// Swap checks Swap's answers on one key.
func (suite Suite) Swap(t testing.TB, s Full) {
	t.Helper()
	ctx := context.Background()
	check := func(old, new *string, wantSwapped bool, wantCur *string) {
		t.Helper()
		ok, cur, err := s.Swap(ctx, "k", old, new)
		if err != nil {
			t.Fatal(err)
		}
		if ok != wantSwapped || deref(cur) != deref(wantCur) {
			t.Fatalf("Swap(%v, %v) = %v, %v; want %v, %v", deref(old), deref(new), ok, deref(cur), wantSwapped, deref(wantCur))
		}
	}
	check(sp("x"), sp("a"), false, nil) // absent, old given: conflict, no value
	check(nil, sp("a"), true, sp("a"))  // absent: created
	check(nil, sp("b"), false, sp("a")) // present, old absent: conflict
	check(sp("stale"), sp("b"), false, sp("a"))
	check(sp("a"), sp("b"), true, sp("b"))
	if v, err := s.Get(ctx, "k"); err != nil || v != "b" {
		t.Fatalf("Get = %q, %v", v, err)
	}
	check(sp("a"), nil, false, sp("b")) // stale delete: conflict
	check(sp("b"), nil, true, nil)      // delete
	if _, err := s.Get(ctx, "k"); !errors.Is(err, suite.NoEntry) {
		t.Fatalf("after a swap to nothing Get = %v", err)
	}
	check(nil, nil, true, nil) // absent stays absent
	check(sp(""), sp("e"), false, nil)
	check(nil, sp(""), true, sp("")) // an empty value is a value
	check(nil, sp("x"), false, sp(""))
}

// SwapRace has many goroutines increment one counter by CAS: no
// increment is lost.
func (suite Suite) SwapRace(t testing.TB, s Full, workers, each int) {
	t.Helper()
	ctx := context.Background()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				for {
					var old *string
					if v, err := s.Get(ctx, "n"); err == nil {
						old = &v
					} else if !errors.Is(err, suite.NoEntry) {
						t.Error(err)
						return
					}
					n := 0
					if old != nil {
						n = atoi(*old)
					}
					ok, _, err := s.Swap(ctx, "n", old, sp(itoa(n+1)))
					if err != nil {
						t.Error(err)
						return
					}
					if ok {
						break
					}
				}
			}
		}()
	}
	wg.Wait()
	if v, _ := s.Get(ctx, "n"); atoi(v) != workers*each {
		t.Fatalf("counter = %s, want %d", v, workers*each)
	}
}

// LockExclusive has many goroutines do unguarded read-modify-writes
// under the lease: none is lost, and no two hold the lease at once.
func (suite Suite) LockExclusive(t testing.TB, s Full, workers, each int) {
	t.Helper()
	ctx := context.Background()
	var inside atomic.Int32
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				unlock, err := s.Lock(ctx, "lease", time.Minute)
				if err != nil {
					t.Error(err)
					return
				}
				if inside.Add(1) != 1 {
					t.Error("two holders of one lease")
				}
				v, _ := s.Get(ctx, "c")
				if err := s.Set(ctx, "c", itoa(atoi(v)+1)); err != nil {
					t.Error(err)
				}
				inside.Add(-1)
				unlock()
				unlock() // idempotent
			}
		}()
	}
	wg.Wait()
	if v, _ := s.Get(ctx, "c"); atoi(v) != workers*each {
		t.Fatalf("counter = %s, want %d", v, workers*each)
	}
}

// LockWaits checks busy, wait, cancellation and independence of keys.
func (suite Suite) LockWaits(t testing.TB, s Full) {
	t.Helper()
	ctx := context.Background()
	unlock, err := s.Lock(ctx, "a", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Lock(ctx, "a", 0); !errors.Is(err, suite.Busy) {
		t.Fatalf("second Lock(wait 0) = %v, want suite.Busy", err)
	}
	start := time.Now()
	if _, err := s.Lock(ctx, "a", 30*time.Millisecond); !errors.Is(err, suite.Busy) {
		t.Fatalf("Lock(wait 30ms) = %v, want suite.Busy", err)
	}
	if d := time.Since(start); d < 25*time.Millisecond || d > 2*time.Second {
		t.Fatalf("Lock waited %s for a 30ms wait", d)
	}
	// Another key is free, and the holder can still swap its own entry.
	u2, err := s.Lock(ctx, "b", 0)
	if err != nil {
		t.Fatalf("Lock(b) while a is held: %v", err)
	}
	u2()
	if ok, _, err := s.Swap(ctx, "a", nil, sp("1")); err != nil || !ok {
		t.Fatalf("Swap under the lease = %v, %v", ok, err)
	}
	cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := s.Lock(cctx, "a", time.Minute); !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, suite.Busy) {
		t.Fatalf("Lock with an ending context = %v, want DeadlineExceeded", err)
	}
	// A waiter gets the lease when the holder lets go.
	got := make(chan error, 1)
	go func() {
		u, err := s.Lock(ctx, "a", time.Minute)
		if err == nil {
			u()
		}
		got <- err
	}()
	time.Sleep(20 * time.Millisecond)
	unlock()
	select {
	case err := <-got:
		if err != nil {
			t.Fatalf("waiter: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the waiter never got the lease")
	}
	unlock() // releasing again is fine
	u3, err := s.Lock(ctx, "a", 0)
	if err != nil {
		t.Fatalf("Lock after release: %v", err)
	}
	u3()
}

// Increment adds one to the counter under key, retrying on conflict.
func (suite Suite) Increment(ctx context.Context, s Full, key string) error {
	for {
		var old *string
		v, err := s.Get(ctx, key)
		if err == nil {
			old = &v
		} else if !errors.Is(err, suite.NoEntry) {
			return err
		}
		ok, _, err := s.Swap(ctx, key, old, sp(itoa(atoi(v)+1)))
		if err != nil || ok {
			return err
		}
	}
}

func deref(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

func itoa(n int) string { return strconv.Itoa(n) }

// atoi reads a counter; "" (no value yet) is 0.
func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
