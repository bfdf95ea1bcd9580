//go:build !linux

package kernel

import "os"

// memoryFile is nil where this package makes no memory files: images are
// copied into each instance.
func memoryFile(uint64) *os.File { return nil }
