package host

import (
	"context"
	"errors"
	"sync"
	"testing"
)

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

func TestMemoryStoreSwap(t *testing.T) { suite.Swap(t, capable(NewMemoryStore())) }
func TestMemoryStoreSwapRace(t *testing.T) {
	suite.SwapRace(t, capable(NewMemoryStore()), 50, 20)
}
func TestMemoryStoreLock(t *testing.T) {
	s := capable(NewMemoryStore())
	suite.LockWaits(t, s)
	suite.LockExclusive(t, s, 50, 20)
}

func TestEmulatedSwap(t *testing.T) {
	suite.Swap(t, capable(plainStore{NewMemoryStore()}))
	suite.Swap(t, capable(mapStore{plainStore: plainStore{NewMemoryStore()}}))
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
			s := capable(p)
			for range 20 {
				if err := suite.Increment(ctx, s, "n"); err != nil {
					t.Error(err)
					return
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
	suite.LockWaits(t, capable(p))
	suite.LockExclusive(t, capable(p), 50, 20)
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
	suite.LockWaits(t, capable(m))
}
