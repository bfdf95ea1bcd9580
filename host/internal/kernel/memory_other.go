//go:build !unix

package kernel

import "github.com/tetratelabs/wazero/experimental"

// memoryAllocator is wazero's own (Go slices) where mappings are not
// reserved by this package: the kernel copies an image into the memory itself.
func memoryAllocator(*image) experimental.MemoryAllocator { return nil }

// allocatorLoadsImages reports that memoryAllocator's memories do not start
// with their image.
const allocatorLoadsImages = false

// envMemoryAllocator is wazero's own.
func envMemoryAllocator() experimental.MemoryAllocator { return nil }
