package kernel

import "golang.org/x/sys/unix"

// populate faults in b's pages, writable, with one call (Linux 5.14 and
// later; older kernels refuse the advice and the pages fault in as they
// are touched).
func populate(b []byte) { _ = unix.Madvise(b, unix.MADV_POPULATE_WRITE) }
