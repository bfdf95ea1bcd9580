package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/deviceflow/deviceflow/host"
	"github.com/deviceflow/deviceflow/host/store/keyring"
)

// The stores --store offers. keyring is the default: tokens go to a plain
// file only when the person asks for one, and a keyring that does not work
// is an error that says so, never a silent fallback.
var storeKinds = []string{host.StoreKeyring, host.StoreFile, host.StoreEncrypted, host.StoreMemory}

const defaultStore = host.StoreKeyring

// openedStore is a store and how to describe it to the person.
type openedStore struct {
	store host.Store
	kind  string
	// path is the store's file, for the file stores.
	path string
	// desc is the store's own description: "file /home/me/.config/...".
	desc string
}

func (s *openedStore) String() string { return s.desc }

// namedIn reports whether a message names the store already.
func (s *openedStore) namedIn(msg string) bool {
	return strings.Contains(msg, s.desc) || (s.path != "" && strings.Contains(msg, s.path))
}

// openStore opens the store --store and --store-path name.
func openStore(kind, path string) (*openedStore, error) {
	st, err := hostStore(kind, path)
	if err != nil {
		return nil, err
	}
	o := &openedStore{store: st, kind: kind, desc: kind}
	if p, ok := st.(interface{ Path() string }); ok {
		o.path = p.Path()
	}
	if d, ok := st.(fmt.Stringer); ok {
		o.desc = d.String()
	}
	if kind == host.StoreMemory {
		o.desc = "memory (this process only)"
	}
	return o, nil
}

// hostStore opens a store by kind:
//
//   - "memory": a host.MemoryStore; path is ignored.
//   - "file": host.NewFileStore(path); path "" means
//     host.ConfigDir()/tokens.json.
//   - "encrypted": a host.EncryptedFileStore at path ("" means
//     host.ConfigDir()/tokens.enc.json), with the key from
//     $DEVICEFLOW_ENCRYPTION_KEY when it is set, or else from the OS keyring.
//   - "keyring": keyring.New(path, 0); path names the keyring service
//     ("deviceflow" when "").
//
// Opening does no I/O beyond parsing the key: a missing keyring or a wrong
// key shows on first use, as a clear error. Every store it opens implements
// host.Swapper and host.Locker. No kind ever falls back to another.
func hostStore(kind, path string) (host.Store, error) {
	switch kind {
	case host.StoreMemory:
		return host.NewMemoryStore(), nil
	case host.StoreFile:
		return host.NewFileStore(path)
	case host.StoreEncrypted:
		key, ok, err := host.KeyFromEnv()
		if err != nil {
			return nil, err
		}
		if !ok {
			key = keyring.EncryptionKey(keyring.New("", 0))
		}
		return host.NewEncryptedFileStore(path, key)
	case host.StoreKeyring:
		return keyring.New(path, 0), nil
	}
	return nil, fmt.Errorf("deviceflow: unknown store %q: use one of %s", kind, storeKindList())
}

// storeAliases are other names --store accepts: encrypted-file is what the
// Python command called the encrypted store.
var storeAliases = map[string]string{"encrypted-file": host.StoreEncrypted}

// canonicalStore returns the kind a --store value names.
func canonicalStore(kind string) string {
	if k, ok := storeAliases[kind]; ok {
		return k
	}
	return kind
}

// storeKindList is the kinds for flag help: "keyring, file, encrypted, memory".
func storeKindList() string { return strings.Join(storeKinds, ", ") }

// probeKey is the entry preflight reads, and writes then removes where a
// store has no file.
const probeKey = "deviceflow-check"

// preflight makes sure the store can take the token before login shows a
// code: a store that cannot be written must fail now, not after the person
// has approved the code (the token would be thrown away). It leaves nothing
// behind and never rewrites an entry:
//
//   - every store is read once, so an unreadable, corrupt or wrongly keyed
//     store fails here;
//   - a store that can check itself (the host's file and encrypted stores:
//     CheckWritable, which also makes sure an encrypted store's key can be
//     had) does so;
//   - another store with a file must be able to create a file where the
//     file is (a temporary file, removed at once);
//   - any other store but memory (the keyring) takes a probe entry, which
//     is removed at once.
func preflight(ctx context.Context, st *openedStore) error {
	if _, err := st.store.Get(ctx, probeKey); err != nil && !errors.Is(err, host.ErrNoEntry) {
		return err
	}
	if c, ok := st.store.(interface{ CheckWritable(context.Context) error }); ok {
		return c.CheckWritable(ctx)
	}
	switch {
	case st.kind == host.StoreMemory:
		return nil
	case st.path != "":
		return dirWritable(st.path)
	}
	return probeWrite(ctx, st.store)
}

// probeWrite writes a probe entry and removes it.
func probeWrite(ctx context.Context, st host.Store) error {
	if err := st.Set(ctx, probeKey, "{}"); err != nil {
		return err
	}
	return st.Delete(ctx, probeKey)
}

// dirWritable checks that a file can be created beside path, the way a
// file store replaces its file (a temporary file renamed over the old
// one), or in it when the store is a directory of entries. A directory
// that does not exist yet is made by the store on its first write, so the
// nearest one that exists is checked.
func dirWritable(path string) error {
	if resolved, err := filepath.EvalSymlinks(path); err == nil {
		path = resolved
	}
	dir := filepath.Dir(path)
	if info, err := os.Stat(path); err == nil && info.IsDir() {
		dir = path
	}
	for {
		info, err := os.Stat(dir)
		if err == nil {
			if !info.IsDir() {
				return fmt.Errorf("cannot write the store file %s: %s is not a directory", path, dir)
			}
			break
		}
		parent := filepath.Dir(dir)
		if !errors.Is(err, fs.ErrNotExist) || parent == dir {
			return fmt.Errorf("cannot write the store file %s: %w", path, err)
		}
		dir = parent
	}
	f, err := os.CreateTemp(dir, ".deviceflow-write-check-*")
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("cannot write in the store directory %s: %w", dir, err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}
