// Command packdata merges the data segments of a WebAssembly module:
//
//	packdata in.wasm out.wasm
//
// Go's linker writes the plugin's initial memory as tens of thousands of
// active data segments, one per run of bytes between runs of at least 8
// zeros, which keeps the file small but makes every runtime decode,
// validate and copy each segment when it compiles and instantiates the
// module (0.1 to 0.2 µs a segment in wazero, 4 to 10 ms a process for
// this plugin). packdata sorts the active segments by offset and joins
// neighbours across the narrowest gaps, writing the gaps' zeros, until at
// most maxSegments remain: the same initial memory in far fewer segments,
// for the fewest zeros written. Every other section is copied unchanged,
// so the output depends on the input alone (make wasm and make verify-wasm
// run it after go build).
package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sort"

	"github.com/deviceflow/deviceflow/plugin/wasmfile"
)

// maxSegments is the most segments merge leaves, joining the narrowest
// gaps first: the fewest zeros written for that many segments. Most of the
// plugin's gaps are the 18 or 19 zeros between the entries of the Go
// runtime's findfunctab (20-byte buckets, 16 for each function), so below
// the linker's count each segment fewer writes some 10 bytes more zeros
// than the header it saves. 1,024 segments cost a process at most 0.2 ms
// more than one, too little to measure on this plugin, and write about
// 20 KB fewer zeros than joining everything.
const maxSegments = 1024

// cheapGap is the narrowest gap merge may leave between segments: it joins
// segments across narrower gaps however few segments there are, as a
// segment's header (flags, offset expression, size) costs about as many
// bytes. It is the estimate Go's linker and wasm-opt's memory packing use
// to split a segment at a run of zeros.
const cheapGap = 8

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: packdata in.wasm out.wasm")
		os.Exit(2)
	}
	in, err := os.ReadFile(os.Args[1])
	if err == nil {
		var out []byte
		if out, err = pack(in); err == nil {
			err = os.WriteFile(os.Args[2], out, 0o644)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "packdata:", err)
		os.Exit(1)
	}
}

// segment is an active data segment of memory 0 at a constant offset.
type segment struct {
	offset uint32
	data   []byte
}

var errFormat = errors.New("not a WebAssembly module packdata understands")

// pack rewrites the data section (and the data count section, if any) of
// module and copies every other section as it is.
func pack(module []byte) ([]byte, error) {
	if len(module) < 8 || !bytes.Equal(module[:8], []byte("\x00asm\x01\x00\x00\x00")) {
		return nil, errFormat
	}
	type section struct {
		id   byte
		body []byte
	}
	var sections []section
	var merged []byte
	count := -1
	for p := 8; p < len(module); {
		id := module[p]
		size, n, err := uleb(module[p+1:])
		if err != nil || p+1+n+int(size) > len(module) {
			return nil, errFormat
		}
		body := module[p+1+n : p+1+n+int(size)]
		p += 1 + n + int(size)
		if id == 11 {
			segs, err := readData(body)
			if err != nil {
				return nil, err
			}
			segs = merge(segs, maxSegments)
			count, merged = len(segs), writeData(segs)
			body = merged
		}
		sections = append(sections, section{id, body})
	}
	out := append([]byte(nil), module[:8]...)
	for _, s := range sections {
		if s.id == 12 && count >= 0 {
			// The data count section states the data section's count.
			s.body = wasmfile.AppendULEB(nil, uint64(count))
		}
		out = wasmfile.AppendSection(out, s.id, s.body)
	}
	return out, nil
}

func readData(body []byte) ([]segment, error) {
	n, k, err := uleb(body)
	if err != nil {
		return nil, err
	}
	p := k
	segs := make([]segment, 0, n)
	for range n {
		// Only active segments of memory 0 with an i32.const offset, the
		// form Go's linker writes.
		if p+2 > len(body) || body[p] != 0 || body[p+1] != 0x41 {
			return nil, errFormat
		}
		off, k, err := sleb32(body[p+2:])
		if err != nil || off < 0 {
			return nil, errFormat
		}
		p += 2 + k
		if p >= len(body) || body[p] != 0x0b {
			return nil, errFormat
		}
		size, k, err := uleb(body[p+1:])
		if err != nil || p+1+k+int(size) > len(body) {
			return nil, errFormat
		}
		p += 1 + k
		segs = append(segs, segment{uint32(off), body[p : p+int(size)]})
		p += int(size)
	}
	if p != len(body) {
		return nil, errFormat
	}
	return segs, nil
}

// merge joins segments across every gap narrower than cheapGap and then
// across the narrowest remaining gaps, the earlier first among equal ones,
// until at most limit segments remain; it writes each joined gap's zeros.
// Overlapping segments are left as they are: later segments overwrite
// earlier ones, and reordering them would change the memory.
func merge(segs []segment, limit int) []segment {
	sorted := append([]segment(nil), segs...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].offset < sorted[j].offset })
	for i := 1; i < len(sorted); i++ {
		if sorted[i].offset < sorted[i-1].offset+uint32(len(sorted[i-1].data)) {
			return segs
		}
	}
	// join[i] reports whether sorted[i] is appended to the segment before it.
	join := make([]bool, len(sorted))
	gap := func(i int) uint32 {
		return sorted[i].offset - sorted[i-1].offset - uint32(len(sorted[i-1].data))
	}
	var wide []int // the gaps not yet joined, by index of the segment after them
	for i := 1; i < len(sorted); i++ {
		if gap(i) < cheapGap {
			join[i] = true
		} else {
			wide = append(wide, i)
		}
	}
	if extra := len(wide) + 1 - limit; extra > 0 {
		sort.SliceStable(wide, func(a, b int) bool { return gap(wide[a]) < gap(wide[b]) })
		for _, i := range wide[:min(extra, len(wide))] {
			join[i] = true
		}
	}
	var out []segment
	for i, s := range sorted {
		if i > 0 && join[i] {
			last := &out[len(out)-1]
			last.data = append(last.data, make([]byte, gap(i))...)
			last.data = append(last.data, s.data...)
			continue
		}
		out = append(out, segment{s.offset, append([]byte(nil), s.data...)})
	}
	return out
}

func writeData(segs []segment) []byte {
	b := wasmfile.AppendULEB(nil, uint64(len(segs)))
	for _, s := range segs {
		b = append(b, 0, 0x41)
		b = wasmfile.AppendSLEB(b, int64(s.offset))
		b = append(b, 0x0b)
		b = wasmfile.AppendULEB(b, uint64(len(s.data)))
		b = append(b, s.data...)
	}
	return b
}

// uleb is wasmfile.ULEB, failing with errFormat.
func uleb(b []byte) (uint64, int, error) {
	v, n, ok := wasmfile.ULEB(b)
	if !ok {
		return 0, 0, errFormat
	}
	return v, n, nil
}

// sleb32 reads an i32's signed LEB128 number, failing with errFormat.
func sleb32(b []byte) (int32, int, error) {
	v, n, ok := wasmfile.SLEB(b, 5)
	if !ok {
		return 0, 0, errFormat
	}
	return int32(v), n, nil
}
