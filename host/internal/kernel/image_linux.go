package kernel

import (
	"os"

	"golang.org/x/sys/unix"
)

// memoryFile makes an anonymous memory file of size bytes, all zero, or
// returns nil when the kernel refuses one.
func memoryFile(size uint64) *os.File {
	fd, err := unix.MemfdCreate("deviceflow-image", unix.MFD_CLOEXEC)
	if err != nil {
		return nil
	}
	f := os.NewFile(uintptr(fd), "deviceflow-image")
	if err := f.Truncate(int64(size)); err != nil {
		f.Close()
		return nil
	}
	return f
}
