package main

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/tetratelabs/wazero"

	"github.com/deviceflow/deviceflow/plugin/wasmfile"
)

// sections returns the body of each of a module's sections by id (the last
// one for an id that repeats, as custom sections may) and the data
// section's segments, decoded.
func sections(t *testing.T, module []byte) (map[byte][]byte, []segment) {
	t.Helper()
	bodies := map[byte][]byte{}
	var segs []segment
	for p := 8; p < len(module); {
		id := module[p]
		size, n, err := uleb(module[p+1:])
		if err != nil {
			t.Fatal(err)
		}
		body := module[p+1+n : p+1+n+int(size)]
		p += 1 + n + int(size)
		bodies[id] = body
		if id == 11 {
			if segs, err = readData(body); err != nil {
				t.Fatal(err)
			}
		}
	}
	return bodies, segs
}

// memoryImage applies a module's data segments to zeroed memory.
func memoryImage(t *testing.T, module []byte) []byte {
	t.Helper()
	_, segs := sections(t, module)
	var mem []byte
	for _, s := range segs {
		if end := int(s.offset) + len(s.data); end > len(mem) {
			mem = append(mem, make([]byte, end-len(mem))...)
		}
		copy(mem[s.offset:], s.data)
	}
	return bytes.TrimRight(mem, "\x00")
}

// instantiatedMemory instantiates module in wazero and returns the first
// size bytes of its memory: the initial memory as a runtime builds it.
func instantiatedMemory(t *testing.T, module []byte, size uint32) []byte {
	t.Helper()
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	mod, err := rt.Instantiate(ctx, module)
	if err != nil {
		t.Fatal(err)
	}
	mem, ok := mod.Memory().Read(0, size)
	if !ok {
		t.Fatalf("the memory is shorter than %d bytes", size)
	}
	return append([]byte(nil), mem...)
}

// module returns a module with two pages of memory, segs as its data
// section, a data count section and a custom section.
func module(segs ...segment) []byte {
	m := []byte("\x00asm\x01\x00\x00\x00")
	m = wasmfile.AppendSection(m, 5, []byte{1, 0, 2}) // one memory, two pages
	m = wasmfile.AppendSection(m, 12, wasmfile.AppendULEB(nil, uint64(len(segs))))
	m = wasmfile.AppendSection(m, 11, writeData(segs))
	return wasmfile.AppendSection(m, 0, []byte("\x04name"))
}

func TestPackKeepsTheMemory(t *testing.T) {
	in := module(
		segment{5000, []byte("late")},
		segment{16, []byte("abc")},
		segment{22, []byte{1, 2}},                 // a gap of 3, under cheapGap
		segment{24, []byte{3}},                    // no gap
		segment{25 + cheapGap, []byte("far")},     // a gap of cheapGap
		segment{65530, []byte("across the page")}, // across a page boundary
	)
	out, err := pack(in)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(memoryImage(t, out), memoryImage(t, in)) {
		t.Fatal("the packed module's memory differs")
	}
	const size = 2 << 16
	if !bytes.Equal(instantiatedMemory(t, out, size), instantiatedMemory(t, in, size)) {
		t.Fatal("the packed module's memory differs once instantiated")
	}
	again, err := pack(out)
	if err != nil || !bytes.Equal(again, out) {
		t.Fatal("packing is not idempotent")
	}
	// Segments: 16..25 joined; 33, 5000 and 65530 alone, as the gaps
	// before them are not narrower than cheapGap and there are fewer than
	// maxSegments segments.
	bodies, segs := sections(t, out)
	var offsets []uint32
	for _, s := range segs {
		offsets = append(offsets, s.offset)
	}
	if want := []uint32{16, 33, 5000, 65530}; !equal(offsets, want) {
		t.Errorf("segments at %v, want %v", offsets, want)
	}
	if count, _, _ := uleb(bodies[12]); count != uint64(len(segs)) {
		t.Errorf("data count %d, want %d", count, len(segs))
	}
	if string(bodies[0]) != "\x04name" {
		t.Errorf("custom section changed: %q", bodies[0])
	}
}

// TestMergeJoinsTheNarrowestGaps checks that merge keeps the widest gaps
// as segment boundaries once there are more segments than its limit: a gap
// wider than every joined one begins a new segment.
func TestMergeJoinsTheNarrowestGaps(t *testing.T) {
	// Gaps: 30, 20, 50, 20, 10, 20.
	segs := []segment{
		{100, []byte("a")},
		{131, []byte("b")},
		{152, []byte("c")},
		{203, []byte("d")},
		{224, []byte("e")},
		{235, []byte("f")},
		{256, []byte("g")},
	}
	for _, c := range []struct {
		limit int
		want  []uint32
	}{
		{7, []uint32{100, 131, 152, 203, 224, 235, 256}},
		{6, []uint32{100, 131, 152, 203, 224, 256}}, // 10 joined
		{4, []uint32{100, 131, 203, 256}},           // and the first two 20s
		{3, []uint32{100, 131, 203}},                // and the third 20
		{2, []uint32{100, 203}},                     // and 30
		{1, []uint32{100}},
		{0, []uint32{100}},
	} {
		out := merge(segs, c.limit)
		var offsets []uint32
		for _, s := range out {
			offsets = append(offsets, s.offset)
		}
		if !equal(offsets, c.want) {
			t.Errorf("limit %d: segments at %v, want %v", c.limit, offsets, c.want)
		}
		in, packed := module(segs...), module(out...)
		if !bytes.Equal(memoryImage(t, packed), memoryImage(t, in)) {
			t.Errorf("limit %d: the memory differs", c.limit)
		}
		if !bytes.Equal(instantiatedMemory(t, packed, 512), instantiatedMemory(t, in, 512)) {
			t.Errorf("limit %d: the memory differs once instantiated", c.limit)
		}
	}
}

// TestMergeAlwaysJoinsCheapGaps checks that gaps narrower than cheapGap
// are joined even when there are fewer segments than the limit.
func TestMergeAlwaysJoinsCheapGaps(t *testing.T) {
	segs := []segment{{0, []byte("a")}, {1 + cheapGap - 1, []byte("b")}, {2 + 2*cheapGap - 1, []byte("c")}}
	out := merge(segs, 10)
	if len(out) != 2 || out[0].offset != 0 || out[1].offset != 2+2*cheapGap-1 {
		t.Fatalf("got %v, want the first two joined", out)
	}
	if want := append(append([]byte("a"), make([]byte, cheapGap-1)...), 'b'); !bytes.Equal(out[0].data, want) {
		t.Errorf("joined data %q, want %q", out[0].data, want)
	}
}

// TestThePluginIsPacked checks the committed plugin: it has at most
// maxSegments data segments, and cutting its memory back into segments at
// runs of cheapGap or more zeros, as Go's linker does, and packing that
// gives the same bytes.
func TestThePluginIsPacked(t *testing.T) {
	blob, err := os.ReadFile("../../deviceflow.wasm")
	if err != nil {
		t.Fatal(err)
	}
	_, segs := sections(t, blob)
	if len(segs) > maxSegments {
		t.Errorf("%d data segments, want at most %d", len(segs), maxSegments)
	}
	var cut []segment
	for _, s := range segs {
		cut = append(cut, split(s)...)
	}
	if len(cut) < 10*maxSegments {
		t.Errorf("only %d segments once cut at runs of zeros", len(cut))
	}
	linked := []byte("\x00asm\x01\x00\x00\x00")
	for p := 8; p < len(blob); {
		id := blob[p]
		size, n, _ := uleb(blob[p+1:])
		body := blob[p+1+n : p+1+n+int(size)]
		switch id {
		case 11:
			body = writeData(cut)
		case 12:
			body = wasmfile.AppendULEB(nil, uint64(len(cut)))
		}
		linked = wasmfile.AppendSection(linked, id, body)
		p += 1 + n + int(size)
	}
	out, err := pack(linked)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, blob) {
		t.Errorf("packing the plugin's memory cut at runs of zeros gives %d bytes, not the committed %d", len(out), len(blob))
	}
}

// split cuts s at every run of cheapGap or more zeros, dropping the runs.
func split(s segment) []segment {
	var out []segment
	start, zeros := -1, 0
	for i, b := range s.data {
		if b != 0 {
			if start >= 0 && zeros >= cheapGap {
				out = append(out, segment{s.offset + uint32(start), s.data[start : i-zeros]})
				start = -1
			}
			if start < 0 {
				start = i
			}
			zeros = 0
			continue
		}
		zeros++
	}
	if start >= 0 {
		out = append(out, segment{s.offset + uint32(start), s.data[start : len(s.data)-zeros]})
	}
	return out
}

func equal(a, b []uint32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestPackLeavesOverlapsAlone(t *testing.T) {
	in := module(segment{10, []byte("abcdef")}, segment{12, []byte("XY")})
	out, err := pack(in)
	if err != nil || !bytes.Equal(out, in) {
		t.Fatalf("overlapping segments were rewritten: %v", err)
	}
}

func TestPackRefusesOtherModules(t *testing.T) {
	for _, bad := range [][]byte{nil, []byte("\x00asm\x02\x00\x00\x00"), []byte("\x00asm\x01\x00\x00\x00\x0b\x05\x01\x01\x00\x0b\x00")} {
		if _, err := pack(bad); err == nil {
			t.Errorf("%q: packed", bad)
		}
	}
}
