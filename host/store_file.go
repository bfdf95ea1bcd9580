package host

import (
	"bytes"
	"context"
	"sort"
)

// FileStore keeps values in one JSON file that only its owner can read and
// write (mode 0600 from the moment it is created; its directory is created
// 0700). The file holds the tokens in plain text, protected by its
// permissions: choose it when the user asks for it, and prefer the keyring
// or an EncryptedFileStore otherwise.
//
// Every write replaces the whole file atomically (a temporary file in the
// same directory, synced, then renamed over it), under an exclusive lock on
// the sibling file PATH.lock, so that several processes can share the file
// without losing each other's entries, and a crash never leaves half a file.
// Reads take no lock. A file that is not a deviceflow store is an
// ErrStoreCorrupt error naming it; the store never overwrites it.
//
// The format, {"version":1,"entries":{...}}, and the lock are the Python
// SDK's FileStore's, so both can share one file.
type FileStore struct {
	f *storeFile
}

// NewFileStore returns a FileStore kept at path (DefaultStorePath("file")
// when path is ""). Nothing is created until the first write.
func NewFileStore(path string) (*FileStore, error) {
	if path == "" {
		var err error
		if path, err = DefaultStorePath(StoreFile); err != nil {
			return nil, err
		}
	}
	f, err := newStoreFile(path)
	if err != nil {
		return nil, err
	}
	return &FileStore{f: f}, nil
}

// Path returns the file's absolute path.
func (s *FileStore) Path() string { return s.f.path }

// String describes the store for a person: "file PATH".
func (s *FileStore) String() string { return "file " + s.f.path }

// Get returns the value under key, or ErrNoEntry.
func (s *FileStore) Get(ctx context.Context, key string) (string, error) {
	return s.f.get(ctx, plainCodec{}, key)
}

// Set writes value under key.
func (s *FileStore) Set(ctx context.Context, key, value string) error {
	return s.f.set(ctx, plainCodec{}, key, value)
}

// Delete removes key.
func (s *FileStore) Delete(ctx context.Context, key string) error {
	return s.f.delete(ctx, plainCodec{}, key)
}

// Keys returns the keys the file holds, sorted, for diagnostics.
func (s *FileStore) Keys(ctx context.Context) ([]string, error) {
	return s.f.keys(ctx, plainCodec{})
}

// load reads and decodes the file; a missing or empty file holds nothing.
func (f *storeFile) load(ctx context.Context, c storeCodec) (map[string]string, error) {
	raw, err := f.read()
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return map[string]string{}, nil
	}
	doc, err := c.decode(ctx, raw)
	if err != nil {
		return nil, err
	}
	return parseDocument(f.path, doc)
}

// update is a read-modify-write under the lock. change edits the entries
// and reports whether there is anything to write.
func (f *storeFile) update(ctx context.Context, c storeCodec, change func(map[string]string) bool) error {
	return f.locked(ctx, func() error {
		entries, err := f.load(ctx, c)
		if err != nil {
			return err
		}
		if !change(entries) {
			return nil
		}
		doc, err := encodeDocument(entries)
		if err != nil {
			return err
		}
		data, err := c.encode(ctx, doc)
		if err != nil {
			return err
		}
		return f.write(data)
	})
}

func (f *storeFile) get(ctx context.Context, c storeCodec, key string) (string, error) {
	entries, err := f.load(ctx, c)
	if err != nil {
		return "", err
	}
	v, ok := entries[key]
	if !ok {
		return "", ErrNoEntry
	}
	return v, nil
}

func (f *storeFile) set(ctx context.Context, c storeCodec, key, value string) error {
	return f.update(ctx, c, func(m map[string]string) bool {
		if old, ok := m[key]; ok && old == value {
			return false
		}
		m[key] = value
		return true
	})
}

func (f *storeFile) delete(ctx context.Context, c storeCodec, key string) error {
	return f.update(ctx, c, func(m map[string]string) bool {
		if _, ok := m[key]; !ok {
			return false
		}
		delete(m, key)
		return true
	})
}

func (f *storeFile) keys(ctx context.Context, c storeCodec) ([]string, error) {
	entries, err := f.load(ctx, c)
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(entries))
	for k := range entries {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys, nil
}
