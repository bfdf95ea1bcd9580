package host

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// FileLocks gives a store whose backend has no compare-and-swap and no
// leases of its own (an OS keyring, a secret manager) both, through lock
// files in a directory, the way the file stores take theirs (wit/stores.md):
// for a key K with N the first 32 hex digits of the SHA-256 of K, Dir/N.lock
// is locked (flock) around one read-compare-write of the entry and
// Dir/N.lease for a lease. The locks exclude the goroutines and processes
// of the users who can open Dir, on this machine only.
//
// A store embeds a FileLocks and implements Swapper and Locker with it:
//
//	func (s *MyStore) Swap(ctx context.Context, key string, old, new *string) (bool, *string, error) {
//		return s.locks.Swap(ctx, s, key, old, new)
//	}
//	func (s *MyStore) Lock(ctx context.Context, key string, wait time.Duration) (func(), error) {
//		return s.locks.Lock(ctx, key, wait)
//	}
type FileLocks struct {
	// Dir holds the lock files. It is created (mode 0700) on first use.
	Dir string
	// Wait bounds how long a swap waits for another holder of N.lock
	// (DefaultLockWait when zero) before it fails with ErrStoreLocked.
	Wait time.Duration
}

// Swap replaces the value under key in s with new when the value s holds
// is old (see Swapper): s's Get, a comparison, then s's Set or Delete, all
// under the lock on the key's N.lock file.
func (l FileLocks) Swap(ctx context.Context, s Store, key string, old, new *string) (bool, *string, error) {
	path, err := l.file(key, "lock")
	if err != nil {
		return false, nil, err
	}
	wait := l.Wait
	if wait <= 0 {
		wait = DefaultLockWait
	}
	unlock, err := lockFile(ctx, path, wait)
	if err != nil {
		return false, nil, err
	}
	defer unlock()
	return swapWith(ctx, key, old, new, s.Get, s.Set, s.Delete)
}

// Lock takes the lease on key (see Locker): the lock on the key's N.lease
// file, waiting up to wait for another holder.
func (l FileLocks) Lock(ctx context.Context, key string, wait time.Duration) (func(), error) {
	path, err := l.file(key, "lease")
	if err != nil {
		return nil, err
	}
	return leaseFile(ctx, path, wait)
}

// file returns the path of key's lock file of the given kind, making the
// directory when it is missing.
func (l FileLocks) file(key, kind string) (string, error) {
	if l.Dir == "" {
		return "", fmt.Errorf("deviceflow: the store's lock directory is not set")
	}
	if err := os.MkdirAll(l.Dir, 0o700); err != nil {
		return "", fmt.Errorf("deviceflow: cannot create the store's lock directory %s: %w", l.Dir, unwrapPath(err))
	}
	return filepath.Join(l.Dir, entryName(key)+"."+kind), nil
}
