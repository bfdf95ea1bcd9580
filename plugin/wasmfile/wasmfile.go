// Package wasmfile reads and writes the few pieces of the WebAssembly
// binary format that this project takes modules apart and puts them
// together with: LEB128 numbers and sections. make wasm's data packer
// (plugin/internal/packdata) and the Go host's kernel, which splits the
// plugin's data from its code and writes its own small env module
// (host/internal/kernel), share it.
package wasmfile

// ULEB reads an unsigned LEB128 number of at most 64 bits (ten bytes) and
// returns it with its length; ok is false when b does not start with one.
func ULEB(b []byte) (v uint64, n int, ok bool) {
	for i := 0; i < len(b) && i < 10; i++ {
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i]&0x80 == 0 {
			return v, i + 1, true
		}
	}
	return 0, 0, false
}

// SLEB reads a signed LEB128 number of at most max bytes (5 for an i32,
// 10 for an i64) and returns it with its length; ok is false when b does
// not start with one.
func SLEB(b []byte, max int) (v int64, n int, ok bool) {
	for i := 0; i < len(b) && i < max; i++ {
		v |= int64(b[i]&0x7f) << (7 * i)
		if b[i]&0x80 == 0 {
			if b[i]&0x40 != 0 && i < 9 {
				v |= -1 << (7 * (i + 1))
			}
			return v, i + 1, true
		}
	}
	return 0, 0, false
}

// AppendULEB appends v as an unsigned LEB128 number.
func AppendULEB(b []byte, v uint64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			c |= 0x80
		}
		b = append(b, c)
		if v == 0 {
			return b
		}
	}
}

// AppendSLEB appends v as a signed LEB128 number.
func AppendSLEB(b []byte, v int64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// AppendSection appends a section: its id, its body's length and the body.
func AppendSection(b []byte, id byte, body []byte) []byte {
	b = append(b, id)
	b = AppendULEB(b, uint64(len(body)))
	return append(b, body...)
}
