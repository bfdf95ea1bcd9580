//go:build unix

package kernel

import (
	"github.com/tetratelabs/wazero/experimental"
	"golang.org/x/sys/unix"
)

// memoryAllocator backs each instance's linear memory with a mapping of
// its own: the most it may grow to is reserved without access, pages
// become readable and writable as the guest grows, and the kernel fills
// them with zeros when they are first touched. Instantiation then neither
// allocates nor zeroes the initial memory on the Go heap, growing never
// copies, and closing an instance gives its memory back at once instead of
// at the next garbage collection.
var memoryAllocator experimental.MemoryAllocator = experimental.MemoryAllocatorFunc(func(_, max uint64) experimental.LinearMemory {
	return &mappedMemory{max: max}
})

// mappedMemory is one instance's linear memory.
type mappedMemory struct {
	region []byte // the whole reservation, max bytes
	usable uint64 // bytes made readable and writable
	max    uint64
}

// Reallocate makes the first size bytes usable and returns them; nil when
// the reservation or the change of protection fails, which the guest sees
// as memory.grow failing.
func (m *mappedMemory) Reallocate(size uint64) []byte {
	if size > m.max {
		return nil
	}
	if m.region == nil {
		if m.max == 0 {
			return []byte{}
		}
		region, err := unix.Mmap(-1, 0, int(m.max), unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANON|mapNoReserve)
		if err != nil {
			return nil
		}
		m.region = region
	}
	if size > m.usable {
		if err := unix.Mprotect(m.region[m.usable:size], unix.PROT_READ|unix.PROT_WRITE); err != nil {
			return nil
		}
		if m.usable == 0 {
			// The initial memory is where the data segments are copied at
			// once: fault it in with one call rather than page by page.
			populate(m.region[:size])
		}
		m.usable = size
	}
	return m.region[:size:size]
}

// Free unmaps the memory.
func (m *mappedMemory) Free() {
	if m.region != nil {
		_ = unix.Munmap(m.region)
		m.region, m.usable = nil, 0
	}
}
