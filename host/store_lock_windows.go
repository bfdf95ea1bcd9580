//go:build windows

package host

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/windows"
)

// flockFile takes an exclusive LockFileEx lock on the first byte of path
// (created when absent) and returns the function that releases it. It polls
// rather than blocks, so that it gives up when ctx ends or after wait
// (errWaitOver; a wait of 0 tries once). The region matches what the
// Python SDK locks.
func flockFile(ctx context.Context, path string, wait time.Duration) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("deviceflow: cannot open the lock file %s: %w", path, unwrapPath(err))
	}
	h := windows.Handle(f.Fd())
	deadline := time.Now().Add(wait)
	pause := time.Millisecond
	for {
		ol := new(windows.Overlapped)
		err := windows.LockFileEx(h, windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, ol)
		if err == nil {
			return func() {
				windows.UnlockFileEx(h, 0, 1, 0, new(windows.Overlapped))
				f.Close()
			}, nil
		}
		if !errors.Is(err, windows.ERROR_LOCK_VIOLATION) {
			f.Close()
			return nil, fmt.Errorf("deviceflow: cannot lock %s: %w", path, err)
		}
		if err := waitLock(ctx, path, deadline, &pause); err != nil {
			f.Close()
			return nil, err
		}
	}
}

// syncDir does nothing: Windows has no directory sync, and MoveFileEx's
// replacement is already durable enough for a cache of tokens.
func syncDir(string) {}
