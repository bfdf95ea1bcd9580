package shared

import "sync"

// maxKnown bounds the entries a store remembers the bytes of.
const maxKnown = 8192

// Known remembers, per key, the value a store last read or wrote and the
// sealed bytes that hold it. A compare-and-swap whose expected value is
// the one remembered can then write over those bytes at once, with one
// conditional statement, instead of reading the entry and opening it
// first: the statement still compares the stored bytes, so an entry that
// another process changed meanwhile matches nothing, and the store reads
// it as before. A scheduler's polls swap the value they last wrote, so
// each costs one round trip instead of two. The zero Known is ready; it
// keeps at most maxKnown keys.
type Known struct {
	mu sync.Mutex
	m  map[string]knownEntry
}

type knownEntry struct {
	value string
	raw   []byte
}

// Lookup returns the bytes remembered for key when they hold old.
func (k *Known) Lookup(key string, old *string) ([]byte, bool) {
	if old == nil {
		return nil, false
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	e, ok := k.m[key]
	if !ok || e.value != *old {
		return nil, false
	}
	return e.raw, true
}

// Remember notes that raw holds value under key.
func (k *Known) Remember(key, value string, raw []byte) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.m == nil {
		k.m = map[string]knownEntry{}
	}
	if _, ok := k.m[key]; !ok && len(k.m) >= maxKnown {
		for other := range k.m {
			delete(k.m, other)
			break
		}
	}
	k.m[key] = knownEntry{value: value, raw: raw}
}

// Forget drops what is remembered for key.
func (k *Known) Forget(key string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.m, key)
}

// Swapped records a compare-and-swap that wrote: new held in newRaw, or
// the entry removed when new is nil.
func (k *Known) Swapped(key string, new *string, newRaw []byte) {
	if new == nil {
		k.Forget(key)
		return
	}
	k.Remember(key, *new, newRaw)
}
