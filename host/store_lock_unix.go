//go:build unix

package host

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// flockFile takes an exclusive flock(2) on path (created 0600 when absent)
// and returns the function that releases it. It polls rather than blocks,
// so that it gives up when ctx ends or after wait (errWaitOver; a wait of 0
// tries once), and a stuck process never hangs another one. flock locks belong to the open
// file, so two opens in one process exclude each other too; the lock goes
// away with the process, so a crash never leaves it held.
func flockFile(ctx context.Context, path string, wait time.Duration) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("deviceflow: cannot open the lock file %s: %w", path, unwrapPath(err))
	}
	fd := int(f.Fd())
	deadline := time.Now().Add(wait)
	pause := time.Millisecond
	for {
		err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() {
				unix.Flock(fd, unix.LOCK_UN)
				f.Close()
			}, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			f.Close()
			return nil, fmt.Errorf("deviceflow: cannot lock %s: %w", path, err)
		}
		if err := waitLock(ctx, path, deadline, &pause); err != nil {
			f.Close()
			return nil, err
		}
	}
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	d.Sync()
	d.Close()
}
