package host

import (
	"context"
	"time"
)

// FileStore keeps each value in a file of its own, in a directory only its
// owner can read and write (the directory 0700, the files 0600 from the
// moment they are created). The files hold the tokens in plain text,
// protected by their permissions: choose it when the user asks for it, and
// prefer the keyring or an EncryptedFileStore otherwise.
//
// The layout (v2) is the Python SDK's FileStore's, so both can share one
// directory, locks included. In the directory PATH, the entry whose key's
// SHA-256 starts with the 32 hex digits N lives in N.json, as
// {"version":2,"key":K,"value":V}. Each write replaces that file atomically
// (a temporary file created exclusively with mode 0600, synced, renamed over
// it, then the directory synced), under an exclusive flock on N.lock held
// for that one entry's compare-and-swap only: writers of other entries
// never wait, a write's cost does not grow with the number of entries, and
// a crash never leaves half a file. A lease (Lock) is an flock on N.lease.
// Reads take no lock. An entry file that is not a deviceflow entry is an
// ErrStoreCorrupt error naming it; the store never overwrites it.
//
// A store file of the single-file layout v1 ({"version":1,"entries":{...}}
// at PATH, as earlier versions wrote it) is migrated to the directory on
// first use, safely against a crash at any point (see the package
// documentation).
//
// A FileStore implements Swapper and Locker, across goroutines and
// processes alike.
type FileStore struct {
	d *storeDir
}

// NewFileStore returns a FileStore kept in the directory path
// (DefaultStorePath("file") when path is ""). Nothing is created until the
// first write.
func NewFileStore(path string) (*FileStore, error) {
	if path == "" {
		var err error
		if path, err = DefaultStorePath(StoreFile); err != nil {
			return nil, err
		}
	}
	d, err := newStoreDir(path)
	if err != nil {
		return nil, err
	}
	return &FileStore{d: d}, nil
}

// Path returns the store directory's absolute path.
func (s *FileStore) Path() string { return s.d.path }

// String describes the store for a person: "file PATH".
func (s *FileStore) String() string { return "file " + s.d.path }

// Get returns the value under key, or ErrNoEntry.
func (s *FileStore) Get(ctx context.Context, key string) (string, error) {
	return s.d.get(ctx, plainCodec{}, key)
}

// Set writes value under key.
func (s *FileStore) Set(ctx context.Context, key, value string) error {
	return s.d.set(ctx, plainCodec{}, key, value)
}

// Delete removes key.
func (s *FileStore) Delete(ctx context.Context, key string) error {
	return s.d.delete(ctx, plainCodec{}, key)
}

// Swap replaces the value under key with new when the value held is old
// (see Swapper), atomically for every process sharing the directory.
func (s *FileStore) Swap(ctx context.Context, key string, old, new *string) (bool, *string, error) {
	return s.d.swap(ctx, plainCodec{}, key, old, new)
}

// Lock takes the lease on key (see Locker), across processes: an flock on
// the entry's .lease file.
func (s *FileStore) Lock(ctx context.Context, key string, wait time.Duration) (func(), error) {
	return s.d.lease(ctx, plainCodec{}, key, wait)
}

// Keys returns the keys the store holds, sorted, for diagnostics.
func (s *FileStore) Keys(ctx context.Context) ([]string, error) {
	return s.d.keys(ctx, plainCodec{})
}

// CheckWritable reports whether an entry could be written now: it makes
// the directory when it is missing, then creates and removes a probe file
// in it.
func (s *FileStore) CheckWritable(ctx context.Context) error {
	return s.d.checkWritable(ctx, plainCodec{})
}
