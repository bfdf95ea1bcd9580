//go:build unix

package kernel

import (
	"bytes"
	"testing"
)

// TestMappedMemory: memory grows in place, keeps what was written, reads
// as zeros where it is new, refuses to pass its maximum, and is unmapped
// by Free.
func TestMappedMemory(t *testing.T) {
	const page = 65536
	m := memoryAllocator.Allocate(page, 4*page).(*mappedMemory)
	first := m.Reallocate(page)
	if len(first) != page || !bytes.Equal(first, make([]byte, page)) {
		t.Fatalf("first page: %d bytes, want %d zeros", len(first), page)
	}
	copy(first[page-3:], "abc")
	grown := m.Reallocate(3 * page)
	if len(grown) != 3*page || &grown[0] != &first[0] {
		t.Fatalf("grown to %d bytes at another address, want %d in place", len(grown), 3*page)
	}
	if string(grown[page-3:page]) != "abc" || !bytes.Equal(grown[page:], make([]byte, 2*page)) {
		t.Fatal("growing lost what was written or left new bytes non-zero")
	}
	if again := m.Reallocate(2 * page); len(again) != 2*page {
		t.Fatalf("a smaller size gave %d bytes", len(again))
	}
	if over := m.Reallocate(5 * page); over != nil {
		t.Fatalf("past the maximum: %d bytes, want nil", len(over))
	}
	m.Free()
	if m.region != nil || m.usable != 0 {
		t.Fatal("Free left the mapping")
	}
	m.Free() // twice is harmless
}
