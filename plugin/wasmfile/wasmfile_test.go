package wasmfile

import (
	"math"
	"testing"
)

// TestLEBRoundTrip: what Append*LEB writes, *LEB reads back, with its
// length, across the ranges' edges; truncated and overlong numbers are
// refused.
func TestLEBRoundTrip(t *testing.T) {
	for _, v := range []uint64{0, 1, 63, 64, 127, 128, 16383, 16384, math.MaxUint32, math.MaxUint64} {
		b := AppendULEB([]byte{}, v)
		got, n, ok := ULEB(append(b, 0xff))
		if !ok || got != v || n != len(b) {
			t.Errorf("ULEB(%x) = %d, %d, %v; want %d, %d", b, got, n, ok, v, len(b))
		}
	}
	for _, v := range []int64{0, 1, -1, 63, 64, -64, -65, math.MaxInt32, math.MinInt32, math.MaxInt64, math.MinInt64} {
		b := AppendSLEB(nil, v)
		got, n, ok := SLEB(b, 10)
		if !ok || got != v || n != len(b) {
			t.Errorf("SLEB(%x) = %d, %d, %v; want %d, %d", b, got, n, ok, v, len(b))
		}
		if v >= math.MinInt32 && v <= math.MaxInt32 {
			if got, _, ok := SLEB(b, 5); !ok || got != v {
				t.Errorf("SLEB(%x, 5) = %d, %v", b, got, ok)
			}
		}
	}
	for _, b := range [][]byte{nil, {0x80}, {0xff, 0xff}, {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}} {
		if _, _, ok := ULEB(b); ok {
			t.Errorf("ULEB(%x) read a number", b)
		}
	}
	if _, _, ok := SLEB([]byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, 5); ok {
		t.Error("SLEB read six bytes where five are the most")
	}
}

// TestAppendSection: id, length, body.
func TestAppendSection(t *testing.T) {
	body := make([]byte, 200)
	b := AppendSection([]byte("x"), 11, body)
	if string(b[:4]) != "x\x0b\xc8\x01" || len(b) != 4+200 {
		t.Errorf("section % x…", b[:4])
	}
}
