//go:build !unix && !windows

package host

import (
	"context"
	"errors"
	"time"
)

// flockFile fails: this platform has no file locking deviceflow knows, and a
// store without its lock could lose entries.
func flockFile(context.Context, string, time.Duration) (func(), error) {
	return nil, errors.New("deviceflow: file stores need file locking, which this platform lacks: use the memory store")
}

func syncDir(string) {}
