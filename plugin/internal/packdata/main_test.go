package main

import (
	"bytes"
	"testing"
)

// memoryImage applies a module's data segments to zeroed memory.
func memoryImage(t *testing.T, module []byte) []byte {
	t.Helper()
	var mem []byte
	for p := 8; p < len(module); {
		id := module[p]
		size, n, err := uleb(module[p+1:])
		if err != nil {
			t.Fatal(err)
		}
		body := module[p+1+n : p+1+n+int(size)]
		p += 1 + n + int(size)
		if id != 11 {
			continue
		}
		segs, err := readData(body)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range segs {
			if end := int(s.offset) + len(s.data); end > len(mem) {
				mem = append(mem, make([]byte, end-len(mem))...)
			}
			copy(mem[s.offset:], s.data)
		}
	}
	return bytes.TrimRight(mem, "\x00")
}

func module(segs ...segment) []byte {
	m := []byte("\x00asm\x01\x00\x00\x00")
	m = appendSection(m, 5, []byte{1, 0, 1}) // one memory, one page
	m = appendSection(m, 12, appendULEB(nil, uint64(len(segs))))
	m = appendSection(m, 11, writeData(segs))
	return appendSection(m, 0, []byte("\x04name"))
}

func TestPackKeepsTheMemory(t *testing.T) {
	in := module(
		segment{5000, []byte("late")},
		segment{16, []byte("abc")},
		segment{40, []byte{1, 2}},                   // a short gap
		segment{42, []byte{3}},                      // no gap
		segment{40 + 3 + maxGap + 1, []byte("far")}, // one byte past maxGap
		segment{70000, []byte("page two")},
	)
	out, err := pack(in)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(memoryImage(t, out), memoryImage(t, in)) {
		t.Fatal("the packed module's memory differs")
	}
	again, err := pack(out)
	if err != nil || !bytes.Equal(again, out) {
		t.Fatal("packing is not idempotent")
	}
	// Segments: 16..43 joined; 4140 and 5000 joined; 70000 alone.
	m := out[8:]
	var count uint64
	var dataCount uint64
	for p := 0; p < len(m); {
		size, n, _ := uleb(m[p+1:])
		body := m[p+1+n : p+1+n+int(size)]
		switch m[p] {
		case 11:
			count, _, _ = uleb(body)
		case 12:
			dataCount, _, _ = uleb(body)
		case 0:
			if string(body) != "\x04name" {
				t.Errorf("custom section changed: %q", body)
			}
		}
		p += 1 + n + int(size)
	}
	if count != 3 || dataCount != 3 {
		t.Errorf("%d segments (data count %d), want 3", count, dataCount)
	}
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
