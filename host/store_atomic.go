package host

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// DefaultLockWait is how long a file store waits for another process to
// release an entry's lock (held for one compare-and-swap) before it fails
// with ErrStoreLocked.
const DefaultLockWait = 10 * time.Second

// storeDir is the directory under a FileStore or an EncryptedFileStore
// (layout v2, shared with the Python SDK's stores): one file per entry, so
// that a write's cost does not grow with the number of entries.
//
//   - PATH/N.json holds the entry whose key's SHA-256 starts with the 32
//     hex digits N, as {"version":2,"key":K,"value":V} (through the
//     store's codec). It is replaced atomically: written to a new file
//     PATH/.N.RANDOM.tmp, created exclusively with mode 0600 (never
//     readable by others, not even for a moment), synced, renamed over
//     N.json; then the directory is synced. A crash leaves the old entry or
//     the new one, never half of one.
//   - PATH/N.lock is locked (flock) around one compare-and-swap of that
//     entry only: writers of other entries never wait on it.
//   - PATH/N.lease is locked for a lease (Lock), apart from N.lock so that
//     the lease holder can still swap its own entry.
//
// Reads take no lock. Each lock opens its file anew: flock belongs to the
// open file, so goroutines of one process exclude each other as processes
// do, and a lock dies with its process.
//
// A layout v1 store (one JSON file at PATH) is migrated on first use; see
// migrate.
type storeDir struct {
	path     string
	lockWait time.Duration
	// migrated is set once PATH was seen as a directory with no v1 file
	// beside it; until then every use looks again.
	migrated atomic.Bool
	// migrating orders this process's migrations (the lock file orders
	// processes).
	migrating sync.Mutex
}

func newStoreDir(path string) (*storeDir, error) {
	if path == "" {
		return nil, errors.New("deviceflow: the store's path is empty")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("deviceflow: store %s: %w", path, err)
	}
	return &storeDir{path: abs, lockWait: DefaultLockWait}, nil
}

// entryName is the name stem of key's files: the first 32 hex digits of
// the SHA-256 of the key.
func entryName(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:16])
}

func (d *storeDir) entryFile(key string) string {
	return filepath.Join(d.path, entryName(key)+".json")
}

// ready migrates a v1 store when there is one and, when create is set,
// makes the directory (0700) if it does not exist yet.
func (d *storeDir) ready(ctx context.Context, c storeCodec, create bool) error {
	if !d.migrated.Load() {
		fi, err := os.Stat(d.path)
		_, v1err := os.Lstat(d.v1Path())
		switch {
		case err == nil && fi.Mode().IsRegular(), v1err == nil:
			if err := d.migrate(ctx, c); err != nil {
				return err
			}
		case err == nil && fi.IsDir():
			d.migrated.Store(true)
		case err == nil:
			return &storeError{kind: ErrStoreCorrupt,
				msg: fmt.Sprintf("deviceflow: %s is neither a store directory nor a store file; it was left untouched", d.path)}
		case !errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("deviceflow: cannot open the store %s: %w", d.path, unwrapPath(err))
		}
	}
	if create {
		return d.mkdir()
	}
	return nil
}

// mkdir makes the store's directory, and its parents, 0700.
func (d *storeDir) mkdir() error {
	if fi, err := os.Stat(d.path); err == nil && fi.IsDir() {
		return nil
	}
	if err := os.MkdirAll(d.path, 0o700); err != nil {
		return fmt.Errorf("deviceflow: cannot create the store directory %s: %w", d.path, unwrapPath(err))
	}
	return nil
}

// exists reports whether the store's directory exists.
func (d *storeDir) exists() bool {
	fi, err := os.Stat(d.path)
	return err == nil && fi.IsDir()
}

// read returns the value of key's entry, or nil when there is none.
func (d *storeDir) read(ctx context.Context, c storeCodec, key string) (*string, error) {
	file := d.entryFile(key)
	k, v, err := d.load(ctx, c, file)
	if err != nil || k == nil {
		return nil, err
	}
	if *k != key {
		return nil, &storeError{kind: ErrStoreCorrupt,
			msg: fmt.Sprintf("deviceflow: the store entry %s holds another key than its name says; it was left untouched: repair or remove it", file)}
	}
	return v, nil
}

// load reads an entry file: its key and value, or nils when it does not
// exist.
func (d *storeDir) load(ctx context.Context, c storeCodec, file string) (key, value *string, err error) {
	raw, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("deviceflow: cannot read the store entry %s: %w", file, unwrapPath(err))
	}
	doc, err := c.decode(ctx, file, raw)
	if err != nil {
		return nil, nil, err
	}
	k, v, err := parseEntry(file, doc)
	if err != nil {
		return nil, nil, err
	}
	return &k, &v, nil
}

// write replaces key's entry file atomically.
func (d *storeDir) write(ctx context.Context, c storeCodec, key, value string) error {
	doc, err := encodeEntry(key, value)
	if err != nil {
		return err
	}
	data, err := c.encode(ctx, doc)
	if err != nil {
		return err
	}
	name := entryName(key)
	target := filepath.Join(d.path, name+".json")
	tmp, err := createTemp(d.path, "."+name+".", ".tmp")
	if err != nil {
		return fmt.Errorf("deviceflow: cannot write in the store directory %s: %w", d.path, unwrapPath(err))
	}
	committed := false
	defer func() {
		if !committed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("deviceflow: cannot write the store entry %s: %w", target, unwrapPath(err))
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("deviceflow: cannot write the store entry %s: %w", target, unwrapPath(err))
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("deviceflow: cannot write the store entry %s: %w", target, unwrapPath(err))
	}
	if err := os.Rename(tmp.Name(), target); err != nil {
		return fmt.Errorf("deviceflow: cannot replace the store entry %s: %w", target, unwrapPath(err))
	}
	committed = true
	syncDir(d.path)
	return nil
}

// createTemp creates a new file dir/PREFIX+RANDOM+SUFFIX exclusively, mode
// 0600.
func createTemp(dir, prefix, suffix string) (*os.File, error) {
	for range 10 {
		var r [8]byte
		rand.Read(r[:])
		f, err := os.OpenFile(filepath.Join(dir, prefix+hex.EncodeToString(r[:])+suffix), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if !errors.Is(err, fs.ErrExist) {
			return f, err
		}
	}
	return nil, errors.New("deviceflow: no unused temporary file name")
}

// remove deletes key's entry file.
func (d *storeDir) remove(key string) error {
	file := d.entryFile(key)
	if err := os.Remove(file); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("deviceflow: cannot remove the store entry %s: %w", file, unwrapPath(err))
	}
	syncDir(d.path)
	return nil
}

// locked runs fn under key's entry lock (PATH/N.lock).
func (d *storeDir) locked(ctx context.Context, key string, fn func() error) error {
	unlock, err := lockFile(ctx, filepath.Join(d.path, entryName(key)+".lock"), d.lockWait)
	if err != nil {
		return err
	}
	defer unlock()
	return fn()
}

func (d *storeDir) get(ctx context.Context, c storeCodec, key string) (string, error) {
	if err := d.ready(ctx, c, false); err != nil {
		return "", err
	}
	v, err := d.read(ctx, c, key)
	if err != nil {
		return "", err
	}
	if v == nil {
		return "", ErrNoEntry
	}
	return *v, nil
}

// swap is Swapper's compare-and-swap: the comparison and the write happen
// under key's entry lock.
func (d *storeDir) swap(ctx context.Context, c storeCodec, key string, old, new *string) (bool, *string, error) {
	if err := d.ready(ctx, c, new != nil); err != nil {
		return false, nil, err
	}
	if new == nil && !d.exists() {
		return old == nil, nil, nil
	}
	var swapped bool
	var cur *string
	err := d.locked(ctx, key, func() error {
		var err error
		if cur, err = d.read(ctx, c, key); err != nil {
			return err
		}
		if !sameValue(cur, old) {
			return nil
		}
		swapped = true
		switch {
		case new == nil && cur != nil:
			err = d.remove(key)
		case new != nil && (cur == nil || *cur != *new):
			err = d.write(ctx, c, key, *new)
		}
		cur = new
		return err
	})
	if err != nil {
		return false, nil, err
	}
	return swapped, cur, nil
}

// set writes value under key whatever it holds, under key's entry lock. An
// entry file that cannot be read is reported, not overwritten.
func (d *storeDir) set(ctx context.Context, c storeCodec, key, value string) error {
	if err := d.ready(ctx, c, true); err != nil {
		return err
	}
	return d.locked(ctx, key, func() error {
		cur, err := d.read(ctx, c, key)
		if err != nil || (cur != nil && *cur == value) {
			return err
		}
		return d.write(ctx, c, key, value)
	})
}

// delete removes key's entry, under its lock. An entry file that cannot be
// read is reported, not removed.
func (d *storeDir) delete(ctx context.Context, c storeCodec, key string) error {
	if err := d.ready(ctx, c, false); err != nil {
		return err
	}
	if !d.exists() {
		return nil
	}
	return d.locked(ctx, key, func() error {
		cur, err := d.read(ctx, c, key)
		if err != nil || cur == nil {
			return err
		}
		return d.remove(key)
	})
}

// lease takes key's lease: the lock on PATH/N.lease.
func (d *storeDir) lease(ctx context.Context, c storeCodec, key string, wait time.Duration) (func(), error) {
	if err := d.ready(ctx, c, true); err != nil {
		return nil, err
	}
	return leaseFile(ctx, filepath.Join(d.path, entryName(key)+".lease"), wait)
}

// keys lists the keys of every entry file, sorted.
func (d *storeDir) keys(ctx context.Context, c storeCodec) ([]string, error) {
	if err := d.ready(ctx, c, false); err != nil {
		return nil, err
	}
	list, err := os.ReadDir(d.path)
	if errors.Is(err, fs.ErrNotExist) {
		return []string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("deviceflow: cannot list the store directory %s: %w", d.path, unwrapPath(err))
	}
	keys := []string{}
	for _, e := range list {
		if !isEntryFile(e) {
			continue
		}
		k, _, err := d.load(ctx, c, filepath.Join(d.path, e.Name()))
		if err != nil {
			return nil, err
		}
		if k != nil {
			keys = append(keys, *k)
		}
	}
	sort.Strings(keys)
	return keys, nil
}

// hasEntries reports whether the directory holds any entry file.
func (d *storeDir) hasEntries() (bool, error) {
	list, err := os.ReadDir(d.path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("deviceflow: cannot list the store directory %s: %w", d.path, unwrapPath(err))
	}
	for _, e := range list {
		if isEntryFile(e) {
			return true, nil
		}
	}
	return false, nil
}

// isEntryFile tells an entry file (N.json) from locks, leases and
// temporary files.
func isEntryFile(e fs.DirEntry) bool {
	name := e.Name()
	return !strings.HasPrefix(name, ".") && strings.HasSuffix(name, ".json") && !e.IsDir()
}

// checkWritable makes the directory when it is missing, then creates and
// removes a probe file in it: nil when an entry could be written now.
func (d *storeDir) checkWritable(ctx context.Context, c storeCodec) error {
	if err := d.ready(ctx, c, true); err != nil {
		return err
	}
	f, err := createTemp(d.path, ".probe.", ".tmp")
	if err != nil {
		return fmt.Errorf("deviceflow: cannot write in the store directory %s: %w", d.path, unwrapPath(err))
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}

// unwrapPath drops the *fs.PathError around an error: the messages above
// name the path already.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}
