package host

import (
	"context"
	"fmt"
	"time"
)

// waitLock pauses between two attempts at a lock held by someone else,
// doubling the pause up to 50 ms. It fails with ErrStoreLocked after the
// deadline, and with the context's error when ctx ends.
func waitLock(ctx context.Context, path string, deadline time.Time, wait time.Duration, pause *time.Duration) error {
	if !time.Now().Before(deadline) {
		return &storeError{kind: ErrStoreLocked,
			msg: fmt.Sprintf("deviceflow: the store lock %s is still held by another process after %s; try again when the other deviceflow process is done (the lock is released when it exits)", path, wait)}
	}
	t := time.NewTimer(*pause)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		return fmt.Errorf("deviceflow: stopped waiting for the store lock %s: %w", path, ctx.Err())
	}
	if *pause < 50*time.Millisecond {
		*pause *= 2
	}
	return nil
}
