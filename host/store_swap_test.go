package host

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func sp(s string) *string { return &s }

// plainStore is a Store with neither capability, so that SwapperFor and
// LockerFor emulate them.
type plainStore struct{ m *MemoryStore }

func (p plainStore) Get(ctx context.Context, k string) (string, error) { return p.m.Get(ctx, k) }
func (p plainStore) Set(ctx context.Context, k, v string) error        { return p.m.Set(ctx, k, v) }
func (p plainStore) Delete(ctx context.Context, k string) error        { return p.m.Delete(ctx, k) }

// mapStore cannot be a map key: its emulations keep locks of their own.
type mapStore struct {
	plainStore
	_ map[string]int
}

// storeUnderTest is a store with both capabilities, native or emulated.
type storeUnderTest struct {
	Store
	Swapper
	Locker
}

func capable(s Store) storeUnderTest { return storeUnderTest{s, SwapperFor(s), LockerFor(s)} }

func TestStoreCapabilitiesChosen(t *testing.T) {
	m := NewMemoryStore()
	if SwapperFor(m) != Swapper(m) || LockerFor(m) != Locker(m) {
		t.Fatal("a MemoryStore is its own Swapper and Locker")
	}
	p := plainStore{NewMemoryStore()}
	if _, ok := SwapperFor(p).(*emulatedSwapper); !ok {
		t.Fatal("a plain store gets the emulated Swapper")
	}
	if _, ok := LockerFor(p).(*emulatedLocker); !ok {
		t.Fatal("a plain store gets the emulated Locker")
	}
}

// testSwapSemantics checks Swap's answers on one key.
func testSwapSemantics(t *testing.T, s storeUnderTest) {
	t.Helper()
	ctx := context.Background()
	check := func(old, new *string, wantSwapped bool, wantCur *string) {
		t.Helper()
		ok, cur, err := s.Swap(ctx, "k", old, new)
		if err != nil {
			t.Fatal(err)
		}
		if ok != wantSwapped || !sameValue(cur, wantCur) {
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
	if _, err := s.Get(ctx, "k"); !errors.Is(err, ErrNoEntry) {
		t.Fatalf("after a swap to nothing Get = %v", err)
	}
	check(nil, nil, true, nil) // absent stays absent
	check(sp(""), sp("e"), false, nil)
	check(nil, sp(""), true, sp("")) // an empty value is a value
	check(nil, sp("x"), false, sp(""))
}

func deref(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

// testSwapRace has many goroutines increment one counter by CAS: no
// increment is lost.
func testSwapRace(t *testing.T, s storeUnderTest, workers, each int) {
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
					} else if !errors.Is(err, ErrNoEntry) {
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

// testLockExclusive has many goroutines do unguarded read-modify-writes
// under the lease: none is lost, and no two hold the lease at once.
func testLockExclusive(t *testing.T, s storeUnderTest, workers, each int) {
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

// testLockWaits checks busy, wait, cancellation and independence of keys.
func testLockWaits(t *testing.T, s storeUnderTest) {
	t.Helper()
	ctx := context.Background()
	unlock, err := s.Lock(ctx, "a", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Lock(ctx, "a", 0); !errors.Is(err, ErrBusy) {
		t.Fatalf("second Lock(wait 0) = %v, want ErrBusy", err)
	}
	start := time.Now()
	if _, err := s.Lock(ctx, "a", 30*time.Millisecond); !errors.Is(err, ErrBusy) {
		t.Fatalf("Lock(wait 30ms) = %v, want ErrBusy", err)
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
	if _, err := s.Lock(cctx, "a", time.Minute); !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrBusy) {
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

func TestMemoryStoreSwap(t *testing.T) { testSwapSemantics(t, capable(NewMemoryStore())) }
func TestMemoryStoreSwapRace(t *testing.T) {
	testSwapRace(t, capable(NewMemoryStore()), 50, 20)
}
func TestMemoryStoreLock(t *testing.T) {
	s := capable(NewMemoryStore())
	testLockWaits(t, s)
	testLockExclusive(t, s, 50, 20)
}

func TestEmulatedSwap(t *testing.T) {
	testSwapSemantics(t, capable(plainStore{NewMemoryStore()}))
	testSwapSemantics(t, capable(mapStore{plainStore: plainStore{NewMemoryStore()}}))
}

func TestEmulatedSwapRace(t *testing.T) {
	p := plainStore{NewMemoryStore()}
	// Each goroutine gets an emulation of its own: they share the locks
	// because they emulate one store.
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sw := SwapperFor(p)
			for range 20 {
				for {
					v, err := p.Get(ctx, "n")
					var old *string
					if err == nil {
						old = &v
					}
					ok, _, err := sw.Swap(ctx, "n", old, sp(itoa(atoi(v)+1)))
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
	if v, _ := p.Get(ctx, "n"); v != "1000" {
		t.Fatalf("counter = %s, want 1000", v)
	}
}

func TestEmulatedLock(t *testing.T) {
	p := plainStore{NewMemoryStore()}
	testLockWaits(t, capable(p))
	testLockExclusive(t, capable(p), 50, 20)
	// Two emulations of one store exclude each other.
	u, err := LockerFor(p).Lock(context.Background(), "x", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LockerFor(p).Lock(context.Background(), "x", 0); !errors.Is(err, ErrBusy) {
		t.Fatalf("a second emulation's Lock = %v, want ErrBusy", err)
	}
	u()
	// The tables forget keys nobody holds.
	leaseLocks.mu.Lock()
	n := 0
	for k := range leaseLocks.m {
		if k.store == any(p) {
			n++
		}
	}
	leaseLocks.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d emulated leases left after every unlock", n)
	}
	m := mapStore{plainStore: plainStore{NewMemoryStore()}}
	testLockWaits(t, capable(m))
}

func itoa(n int) string { return strconv.Itoa(n) }

// atoi reads a counter; "" (no value yet) is 0.
func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
