package host

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// DefaultLockWait is how long a file store waits for another process to
// release the store's lock before it fails with ErrStoreLocked.
const DefaultLockWait = 10 * time.Second

// storeFile is the file under a FileStore or an EncryptedFileStore: read
// without a lock (every write replaces the whole file at once), and
// read-modify-write under an exclusive lock on a sibling ".lock" file, so
// that processes sharing the file never lose each other's entries.
//
// Writes go to a temporary file in the same directory, created with mode
// 0600 (the file is never readable by others, not even for a moment), synced,
// then renamed over the old file; the directory is synced after the rename.
// A crash leaves the old file or the new one, never half of one.
type storeFile struct {
	path     string
	lockWait time.Duration
	// mu orders this process's writers; the lock file orders processes.
	mu sync.Mutex
}

func newStoreFile(path string) (*storeFile, error) {
	if path == "" {
		return nil, errors.New("deviceflow: the store file's path is empty")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("deviceflow: store file %s: %w", path, err)
	}
	return &storeFile{path: abs, lockWait: DefaultLockWait}, nil
}

// read returns the file's content; a file that does not exist reads as
// empty.
func (f *storeFile) read() ([]byte, error) {
	b, err := os.ReadFile(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("deviceflow: cannot read the store file %s: %w", f.path, unwrapPath(err))
	}
	return b, nil
}

// locked runs fn under this process's mutex and the cross-process lock.
func (f *storeFile) locked(ctx context.Context, fn func() error) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	dir := filepath.Dir(f.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("deviceflow: cannot create the store directory %s: %w", dir, unwrapPath(err))
	}
	unlock, err := lockFile(ctx, f.path+".lock", f.lockWait)
	if err != nil {
		return err
	}
	defer unlock()
	return fn()
}

// write replaces the file's content atomically. A symbolic link at the
// path is followed, so the file it points to is replaced, not the link.
func (f *storeFile) write(data []byte) error {
	target := f.path
	if resolved, err := filepath.EvalSymlinks(f.path); err == nil {
		target = resolved
	}
	dir, base := filepath.Split(target)
	tmp, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return fmt.Errorf("deviceflow: cannot write in the store directory %s: %w", dir, unwrapPath(err))
	}
	committed := false
	defer func() {
		if !committed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("deviceflow: cannot write the store file %s: %w", target, unwrapPath(err))
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("deviceflow: cannot write the store file %s: %w", target, unwrapPath(err))
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("deviceflow: cannot write the store file %s: %w", target, unwrapPath(err))
	}
	if err := os.Rename(tmp.Name(), target); err != nil {
		return fmt.Errorf("deviceflow: cannot replace the store file %s: %w", target, unwrapPath(err))
	}
	committed = true
	syncDir(dir)
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
