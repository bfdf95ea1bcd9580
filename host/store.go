package host

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"time"
)

// ErrNoEntry is what a Store's Get returns for a key it does not hold.
var ErrNoEntry = errors.New("deviceflow: no entry")

// ErrBusy is what a Locker's Lock returns when another holder kept the
// lease on the key for the whole wait.
var ErrBusy = errors.New("deviceflow: the store entry is leased by another holder")

// Store keeps the plugin's opaque values (cached authentications) under keys
// the plugin builds. Implementations must be safe for concurrent use.
//
// A store may also implement Swapper and Locker, which the plugin uses to
// make each write conditional on what it read and to hold a lease on a key
// while it spends a refresh token. A store that lacks them gets an
// in-process emulation (see SwapperFor and LockerFor).
type Store interface {
	// Get returns the value under key, or ErrNoEntry.
	Get(ctx context.Context, key string) (string, error)
	// Set writes value under key, replacing any older value.
	Set(ctx context.Context, key, value string) error
	// Delete removes key; removing an absent key is not an error.
	Delete(ctx context.Context, key string) error
}

// Swapper is a store's compare-and-swap.
type Swapper interface {
	// Swap replaces the value under key with new only when the value held
	// now is exactly old. A nil old means "only when there is no value"; a
	// nil new removes the entry. When the value held differs, Swap writes
	// nothing and reports swapped false with the value held (nil when there
	// is none). When it swaps, current is new. The comparison and the write
	// are atomic for everyone sharing the store.
	Swap(ctx context.Context, key string, old, new *string) (swapped bool, current *string, err error)
}

// Locker is a store's exclusive lease on a key.
type Locker interface {
	// Lock takes the lease on key, waiting up to wait for another holder to
	// release it (a wait of 0, or less, tries once). It returns the
	// function that releases the lease, which may be called more than once. When another
	// holder kept the lease for the whole wait, Lock fails with ErrBusy;
	// when ctx ends first, with an error that wraps ctx.Err(). A lease is
	// not re-entrant: a second Lock on a key its caller already holds waits
	// like any other.
	Lock(ctx context.Context, key string, wait time.Duration) (unlock func(), err error)
}

// SwapperFor returns s itself when it implements Swapper. Otherwise it
// returns an emulation that runs Get, compares, then Set or Delete under an
// in-process lock per store and key. The emulation is safe only within one
// process: other processes sharing the store's backing data can still
// interleave their writes with it.
func SwapperFor(s Store) Swapper {
	if sw, ok := s.(Swapper); ok {
		return sw
	}
	e := &emulatedSwapper{s: s}
	e.id = emulationID(s, e)
	return e
}

// LockerFor returns s itself when it implements Locker. Otherwise it returns
// an in-process lease per store and key, which honours the wait and the
// context like a native one. The emulation is safe only within one process:
// it excludes the goroutines of this process and nobody else.
func LockerFor(s Store) Locker {
	if l, ok := s.(Locker); ok {
		return l
	}
	e := &emulatedLocker{}
	e.id = emulationID(s, e)
	return e
}

// storeKey names one key of one store in the emulations' lock tables.
type storeKey struct {
	store any
	key   string
}

// swapLocks and leaseLocks are the emulations' locks, shared by every
// emulation of one store.
var swapLocks, leaseLocks keyLocks[storeKey]

// emulationID is what identifies s in the emulations' lock tables: s
// itself, or, for a store value that cannot be a map key (a struct holding
// a map, say), the emulation being built, whose locks then are its own.
func emulationID(s Store, self any) any {
	if v := reflect.ValueOf(s); v.IsValid() && v.Comparable() {
		return s
	}
	return self
}

// emulatedSwapper is SwapperFor's compare-and-swap for a store without one.
type emulatedSwapper struct {
	s  Store
	id any
}

func (e *emulatedSwapper) Swap(ctx context.Context, key string, old, new *string) (bool, *string, error) {
	unlock, err := swapLocks.lock(ctx, storeKey{e.id, key}, -1)
	if err != nil {
		return false, nil, err
	}
	defer unlock()
	return swapWith(ctx, key, old, new, e.s.Get, e.s.Set, e.s.Delete)
}

// swapWith is a compare-and-swap made of a get, a comparison and a set or
// a delete; the caller makes it atomic.
func swapWith(ctx context.Context, key string, old, new *string,
	get func(context.Context, string) (string, error),
	set func(context.Context, string, string) error,
	del func(context.Context, string) error) (bool, *string, error) {
	var cur *string
	v, err := get(ctx, key)
	switch {
	case err == nil:
		cur = &v
	case !errors.Is(err, ErrNoEntry):
		return false, nil, err
	}
	if !sameValue(cur, old) {
		return false, cur, nil
	}
	if new == nil {
		if cur != nil {
			if err := del(ctx, key); err != nil {
				return false, nil, err
			}
		}
		return true, nil, nil
	}
	if cur == nil || *cur != *new {
		if err := set(ctx, key, *new); err != nil {
			return false, nil, err
		}
	}
	return true, new, nil
}

// sameValue compares two optional values.
func sameValue(a, b *string) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

// emulatedLocker is LockerFor's lease for a store without one.
type emulatedLocker struct{ id any }

func (e *emulatedLocker) Lock(ctx context.Context, key string, wait time.Duration) (func(), error) {
	return leaseLocks.lock(ctx, storeKey{e.id, key}, max(wait, 0))
}

// keyLocks is a set of in-process exclusive locks by key that a waiter can
// give up on: after a wait, or when its context ends. A key's lock exists
// only while someone holds it or waits for it.
type keyLocks[K comparable] struct {
	mu sync.Mutex
	m  map[K]*keyLock
}

type keyLock struct {
	// held has room for one token: sending takes the lock, receiving
	// releases it.
	held chan struct{}
	// refs counts the holder and the waiters.
	refs int
}

// lock takes key's lock, waiting up to wait (0: try once; negative: until
// ctx ends). It fails with ErrBusy after the wait and with an error
// wrapping ctx.Err() when ctx ends first. The unlock function it returns
// may be called more than once.
func (k *keyLocks[K]) lock(ctx context.Context, key K, wait time.Duration) (func(), error) {
	k.mu.Lock()
	if k.m == nil {
		k.m = map[K]*keyLock{}
	}
	l, ok := k.m[key]
	if !ok {
		l = &keyLock{held: make(chan struct{}, 1)}
		k.m[key] = l
	}
	l.refs++
	k.mu.Unlock()

	err := acquire(ctx, l.held, wait)
	if err != nil {
		k.drop(key, l)
		return nil, err
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			<-l.held
			k.drop(key, l)
		})
	}, nil
}

// drop forgets one holder or waiter of key's lock.
func (k *keyLocks[K]) drop(key K, l *keyLock) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if l.refs--; l.refs == 0 {
		delete(k.m, key)
	}
}

// acquire puts a token in held, waiting as lock describes.
func acquire(ctx context.Context, held chan struct{}, wait time.Duration) error {
	select {
	case held <- struct{}{}:
		return nil
	default:
	}
	if wait == 0 {
		return ErrBusy
	}
	var timeout <-chan time.Time
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case held <- struct{}{}:
		return nil
	case <-timeout:
		return ErrBusy
	case <-ctx.Done():
		return fmt.Errorf("deviceflow: stopped waiting for a store lease: %w", ctx.Err())
	}
}

// MemoryStore keeps values in memory, for one process's lifetime. It
// implements Swapper and Locker.
type MemoryStore struct {
	mu     sync.Mutex
	m      map[string]string
	leases keyLocks[string]
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore { return &MemoryStore{m: map[string]string{}} }

// Get returns the value under key, or ErrNoEntry.
func (s *MemoryStore) Get(_ context.Context, key string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[key]
	if !ok {
		return "", ErrNoEntry
	}
	return v, nil
}

// Set writes value under key.
func (s *MemoryStore) Set(_ context.Context, key, value string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[key] = value
	return nil
}

// Delete removes key.
func (s *MemoryStore) Delete(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key)
	return nil
}

// Swap replaces the value under key with new when the value held is old
// (see Swapper).
func (s *MemoryStore) Swap(_ context.Context, key string, old, new *string) (bool, *string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var cur *string
	if v, ok := s.m[key]; ok {
		cur = &v
	}
	if !sameValue(cur, old) {
		return false, cur, nil
	}
	if new == nil {
		delete(s.m, key)
		return true, nil, nil
	}
	s.m[key] = *new
	return true, new, nil
}

// Lock takes the lease on key (see Locker). Waiters are served as the Go
// runtime wakes them, not strictly in order.
func (s *MemoryStore) Lock(ctx context.Context, key string, wait time.Duration) (func(), error) {
	return s.leases.lock(ctx, key, max(wait, 0))
}

// Snapshot returns a copy of every entry, for tests and diagnostics.
func (s *MemoryStore) Snapshot() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]string, len(s.m))
	for k, v := range s.m {
		out[k] = v
	}
	return out
}
