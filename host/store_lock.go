package host

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// errWaitOver is what flockFile returns when someone else held the lock
// for the whole wait; lockFile and leaseFile word it for their callers.
var errWaitOver = errors.New("deviceflow: the lock is held by someone else")

// lockFile takes the exclusive lock on path for a short critical section
// (one entry's compare-and-swap, a migration). When another holder keeps it
// longer than wait, it fails with ErrStoreLocked; when ctx ends first, with
// an error wrapping ctx.Err().
func lockFile(ctx context.Context, path string, wait time.Duration) (unlock func(), err error) {
	unlock, err = flockFile(ctx, path, wait)
	if errors.Is(err, errWaitOver) {
		return nil, &storeError{kind: ErrStoreLocked,
			msg: fmt.Sprintf("deviceflow: the store lock %s is still held by another process after %s; try again when the other deviceflow process is done (the lock is released when it exits)", path, wait)}
	}
	return unlock, err
}

// leaseFile takes the exclusive lock on path for a lease. When another
// holder keeps it for the whole wait (0: try once), it fails with ErrBusy;
// when ctx ends first, with an error wrapping ctx.Err(). The unlock
// function may be called more than once.
func leaseFile(ctx context.Context, path string, wait time.Duration) (unlock func(), err error) {
	release, err := flockFile(ctx, path, wait)
	if errors.Is(err, errWaitOver) {
		return nil, ErrBusy
	}
	if err != nil {
		return nil, err
	}
	var once sync.Once
	return func() { once.Do(release) }, nil
}

// waitLock pauses between two attempts at a lock held by someone else,
// doubling the pause from 1 ms up to 50 ms, never past the deadline. It
// fails with errWaitOver at the deadline, and with an error wrapping the
// context's error when ctx ends.
func waitLock(ctx context.Context, path string, deadline time.Time, pause *time.Duration) error {
	left := time.Until(deadline)
	if left <= 0 {
		return errWaitOver
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("deviceflow: stopped waiting for the store lock %s: %w", path, err)
	}
	t := time.NewTimer(min(*pause, left))
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		return fmt.Errorf("deviceflow: stopped waiting for the store lock %s: %w", path, ctx.Err())
	}
	if *pause < 50*time.Millisecond {
		*pause = min(*pause*2, 50*time.Millisecond)
	}
	return nil
}
