//go:build !unix

package kernel

import "github.com/tetratelabs/wazero/experimental"

// memoryAllocator is wazero's own (Go slices) where mappings are not
// reserved by this package.
var memoryAllocator experimental.MemoryAllocator
