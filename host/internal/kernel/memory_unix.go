//go:build unix

package kernel

import (
	"runtime"
	"unsafe"

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
//
// When img is not nil the memory starts with it: its memory file mapped
// privately (copy on write) over the start of the reservation, or its
// bytes copied there; the reservation is then at least img.size bytes
// usable, whatever size wazero asks for first.
func memoryAllocator(img *image) experimental.MemoryAllocator {
	return experimental.MemoryAllocatorFunc(func(_, max uint64) experimental.LinearMemory {
		return &mappedMemory{max: max, img: img, populate: true}
	})
}

// envMemoryAllocator is memoryAllocator for an env module's memory (Extism
// memory), which starts empty: its pages are left to fault in as calls
// first touch them, usually one or two of the first page's sixteen.
func envMemoryAllocator() experimental.MemoryAllocator {
	return experimental.MemoryAllocatorFunc(func(_, max uint64) experimental.LinearMemory {
		return &mappedMemory{max: max}
	})
}

// allocatorLoadsImages reports that memoryAllocator's memories start with
// their image.
const allocatorLoadsImages = true

// mappedMemory is one instance's linear memory.
type mappedMemory struct {
	region []byte // the whole reservation, max bytes
	usable uint64 // bytes made readable and writable
	max    uint64
	img    *image // what the memory starts with, or nil
	// populate faults the initial memory in at once, where wazero is
	// about to copy data segments.
	populate bool
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
		if m.img != nil && !m.load() {
			m.Free()
			return nil
		}
	}
	if size > m.usable {
		if err := unix.Mprotect(m.region[m.usable:size], unix.PROT_READ|unix.PROT_WRITE); err != nil {
			return nil
		}
		if m.usable == 0 && m.populate {
			// The initial memory is where the data segments are copied at
			// once: fault it in with one call rather than page by page.
			populate(m.region[:size])
		}
		m.usable = size
	}
	return m.region[:size:size]
}

// load puts the image at the start of the reservation.
func (m *mappedMemory) load() bool {
	n := m.img.size
	if n > m.max {
		return false
	}
	if f := m.img.file; f != nil {
		_, err := unix.MmapPtr(int(f.Fd()), 0, unsafe.Pointer(&m.region[0]), uintptr(n),
			unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_FIXED|mapNoReserve)
		runtime.KeepAlive(f)
		if err != nil {
			return false
		}
	} else {
		if err := unix.Mprotect(m.region[:n], unix.PROT_READ|unix.PROT_WRITE); err != nil {
			return false
		}
		populate(m.region[:n])
		copy(m.region, m.img.data)
	}
	m.usable = n
	return true
}

// Free unmaps the memory.
func (m *mappedMemory) Free() {
	if m.region != nil {
		_ = unix.Munmap(m.region)
		m.region, m.usable = nil, 0
	}
}
