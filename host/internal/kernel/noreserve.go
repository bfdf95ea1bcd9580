//go:build unix && !freebsd && !aix

package kernel

import "golang.org/x/sys/unix"

// mapNoReserve keeps a reservation from counting against the system's
// commit limit before its pages are made writable and touched.
const mapNoReserve = unix.MAP_NORESERVE
