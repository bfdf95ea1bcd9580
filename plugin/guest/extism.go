//go:build wasip1

package main

// The Extism kernel functions the plugin uses (namespace extism:host/env):
// its input and output, its error, and blocks of Extism memory that carry
// the host functions' arguments and answers. The kernel moves data at most
// eight bytes a call.

//go:wasmimport extism:host/env input_length
func extismInputLength() uint64

//go:wasmimport extism:host/env input_load_u8
func extismInputLoadU8(offset uint64) uint32

//go:wasmimport extism:host/env input_load_u64
func extismInputLoadU64(offset uint64) uint64

//go:wasmimport extism:host/env output_set
func extismOutputSet(offset, length uint64)

//go:wasmimport extism:host/env error_set
func extismErrorSet(offset uint64)

//go:wasmimport extism:host/env alloc
func extismAlloc(length uint64) uint64

//go:wasmimport extism:host/env free
func extismFree(offset uint64)

//go:wasmimport extism:host/env length
func extismLength(offset uint64) uint64

//go:wasmimport extism:host/env load_u8
func extismLoadU8(offset uint64) uint32

//go:wasmimport extism:host/env load_u64
func extismLoadU64(offset uint64) uint64

//go:wasmimport extism:host/env store_u8
func extismStoreU8(offset uint64, v uint32)

//go:wasmimport extism:host/env store_u64
func extismStoreU64(offset uint64, v uint64)

// input reads the export's input.
func input() []byte {
	n := extismInputLength()
	buf := make([]byte, n)
	i := uint64(0)
	for ; i+8 <= n; i += 8 {
		putU64(buf[i:], extismInputLoadU64(i))
	}
	for ; i < n; i++ {
		buf[i] = byte(extismInputLoadU8(i))
	}
	return buf
}

// store copies data into a new block of Extism memory and answers its
// offset. The caller frees it, or hands it to the kernel as output or
// error.
func store(data []byte) uint64 {
	n := uint64(len(data))
	off := extismAlloc(n)
	i := uint64(0)
	for ; i+8 <= n; i += 8 {
		extismStoreU64(off+i, getU64(data[i:]))
	}
	for ; i < n; i++ {
		extismStoreU8(off+i, uint32(data[i]))
	}
	return off
}

// load copies a block of Extism memory out.
func load(off uint64) []byte {
	n := extismLength(off)
	buf := make([]byte, n)
	i := uint64(0)
	for ; i+8 <= n; i += 8 {
		putU64(buf[i:], extismLoadU64(off+i))
	}
	for ; i < n; i++ {
		buf[i] = byte(extismLoadU8(off + i))
	}
	return buf
}

// output sets the export's output.
func output(data []byte) { extismOutputSet(store(data), uint64(len(data))) }

// setError sets the export's error.
func setError(msg []byte) { extismErrorSet(store(msg)) }

// putU64 and getU64 are encoding/binary's little-endian conversions, which
// the kernel's eight-byte moves use. They are written out byte by byte, as
// encoding/binary writes them, so that the compiler merges each into one
// eight-byte store or load (a loop over the bytes is not merged, and cost
// more than the kernel call it feeds).
func putU64(b []byte, v uint64) {
	_ = b[7]
	b[0] = byte(v)
	b[1] = byte(v >> 8)
	b[2] = byte(v >> 16)
	b[3] = byte(v >> 24)
	b[4] = byte(v >> 32)
	b[5] = byte(v >> 40)
	b[6] = byte(v >> 48)
	b[7] = byte(v >> 56)
}

func getU64(b []byte) uint64 {
	_ = b[7]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}
