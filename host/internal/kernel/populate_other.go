//go:build unix && !linux

package kernel

// populate does nothing where pages cannot be faulted in ahead: they fault
// in as they are touched.
func populate([]byte) {}
