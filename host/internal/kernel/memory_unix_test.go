//go:build unix

package kernel

import (
	"bytes"
	"runtime"
	"testing"
)

// TestMappedMemory: memory grows in place, keeps what was written, reads
// as zeros where it is new, refuses to pass its maximum, and is unmapped
// by Free.
func TestMappedMemory(t *testing.T) {
	const page = 65536
	m := memoryAllocator(nil).Allocate(page, 4*page).(*mappedMemory)
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

// TestMappedMemoryStartsWithImage: a memory made with an image starts with
// its bytes, at least image-size bytes usable whatever size is asked first,
// zeros past it; what one memory writes is seen by no other memory of the
// same image. Both kinds of image: a memory file mapped copy-on-write (on
// Linux) and bytes copied in.
func TestMappedMemoryStartsWithImage(t *testing.T) {
	const page = 65536
	b := make([]byte, 2*page)
	copy(b[10:], "start")
	copy(b[page+5:], "second page")
	file := newImage(b)
	if runtime.GOOS == "linux" && file.file == nil {
		t.Error("no memory file on Linux: each instance copies its image")
	}
	defer file.close()
	for name, img := range map[string]*image{"file": file, "bytes": {size: uint64(len(b)), data: b}} {
		a := memoryAllocator(img).Allocate(page, 4*page).(*mappedMemory)
		other := memoryAllocator(img).Allocate(page, 4*page).(*mappedMemory)
		first := a.Reallocate(page)
		if len(first) != page || string(first[10:15]) != "start" {
			t.Fatalf("%s: the first page lacks the image's bytes", name)
		}
		whole := a.Reallocate(3 * page)
		if !bytes.Equal(whole[:2*page], b) || !bytes.Equal(whole[2*page:], make([]byte, page)) {
			t.Fatalf("%s: grown past the image: not the image then zeros", name)
		}
		copy(whole[page+5:], "written")
		if got := other.Reallocate(2 * page); !bytes.Equal(got, b) {
			t.Fatalf("%s: another memory of the image sees a write", name)
		}
		if string(b[page+5:page+12]) != "second " {
			t.Fatalf("%s: the image itself changed", name)
		}
		a.Free()
		other.Free()
	}
	if big := memoryAllocator(file).Allocate(page, page).(*mappedMemory).Reallocate(page); big != nil {
		t.Error("an image larger than the maximum was loaded")
	}
}
