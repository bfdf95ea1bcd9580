package host

import (
	"context"
	"errors"
	"sync"
)

// ErrNoEntry is what a Store's Get returns for a key it does not hold.
var ErrNoEntry = errors.New("deviceflow: no entry")

// Store keeps the plugin's opaque values (cached authentications) under keys
// the plugin builds. Implementations must be safe for concurrent use.
type Store interface {
	// Get returns the value under key, or ErrNoEntry.
	Get(ctx context.Context, key string) (string, error)
	// Set writes value under key, replacing any older value.
	Set(ctx context.Context, key, value string) error
	// Delete removes key; removing an absent key is not an error.
	Delete(ctx context.Context, key string) error
}

// MemoryStore keeps values in memory, for one process's lifetime.
type MemoryStore struct {
	mu sync.Mutex
	m  map[string]string
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
