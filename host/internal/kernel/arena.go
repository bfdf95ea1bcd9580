package kernel

import (
	"context"
	"encoding/binary"
	"fmt"
	"sort"

	"github.com/tetratelabs/wazero/api"
)

// arena is an instance's Extism memory: blocks of bytes addressed by
// offsets that are never 0. It is emptied at the start of every call, as
// Extism's kernel does, so a call's blocks need not be freed; blocks freed
// last-in first-out (how go-pdk frees a host call's argument and answer)
// give their space back at once, and other freed blocks are reused.
type arena struct {
	// buf[base:top] holds the blocks; offsets index buf directly.
	buf    []byte
	blocks []block // in offset order
	max    uint64  // the most bytes buf may hold
}

type block struct {
	off, len, cap uint64
	free          bool
}

// base is the first offset: 0 means "no block", and blocks stay 8-byte
// aligned.
const base = 8

// keepBytes is how much memory an idle arena keeps for the next call.
const keepBytes = 1 << 20

func newArena(max uint64) arena {
	return arena{buf: make([]byte, base, 4096), max: max}
}

// reset empties the arena.
func (a *arena) reset() {
	if cap(a.buf) > keepBytes {
		a.buf = make([]byte, base, 4096)
	}
	a.buf = a.buf[:base]
	a.blocks = a.blocks[:0]
}

// alloc reserves n bytes and returns their offset; 0 for n == 0 or when
// the arena is full (Extism's kernel answers 0 for both).
func (a *arena) alloc(n uint64) uint64 {
	if n == 0 {
		return 0
	}
	for i := range a.blocks {
		if b := &a.blocks[i]; b.free && b.cap >= n {
			b.free, b.len = false, n
			return b.off
		}
	}
	size := (n + 7) &^ 7
	top := uint64(len(a.buf))
	if size < n || size > a.max || top > a.max-size {
		return 0
	}
	a.buf = append(a.buf, make([]byte, size)...)
	a.blocks = append(a.blocks, block{off: top, len: n, cap: size})
	return top
}

// find is the index of the live block at off, or -1.
func (a *arena) find(off uint64) int {
	i := sort.Search(len(a.blocks), func(i int) bool { return a.blocks[i].off >= off })
	if i < len(a.blocks) && a.blocks[i].off == off && !a.blocks[i].free {
		return i
	}
	return -1
}

// free releases the block at off; anything else is ignored.
func (a *arena) free(off uint64) {
	i := a.find(off)
	if i < 0 {
		return
	}
	a.blocks[i].free = true
	for n := len(a.blocks); n > 0 && a.blocks[n-1].free; n-- {
		a.buf = a.buf[:a.blocks[n-1].off]
		a.blocks = a.blocks[:n-1]
	}
}

// length is the length of the block at off, 0 when there is none.
func (a *arena) length(off uint64) uint64 {
	if i := a.find(off); i >= 0 {
		return a.blocks[i].len
	}
	return 0
}

// bytes is the block at off (a view), nil when there is none.
func (a *arena) bytes(off uint64) []byte {
	if i := a.find(off); i >= 0 {
		b := a.blocks[i]
		return a.buf[b.off : b.off+b.len : b.off+b.len]
	}
	return nil
}

// slice is n bytes at off, which must lie in the arena (n == 0 is empty).
func (a *arena) slice(off, n uint64) ([]byte, bool) {
	if n == 0 {
		return nil, true
	}
	if !a.inBounds(off, n) {
		return nil, false
	}
	return a.buf[off : off+n], true
}

func (a *arena) inBounds(off, n uint64) bool {
	top := uint64(len(a.buf))
	return off >= base && off <= top && top-off >= n
}

// check traps the plugin on an access outside the arena: Extism memory
// holds nothing else, and the plugin's memory is not reachable from it.
func (a *arena) check(off, n uint64) {
	if !a.inBounds(off, n) {
		panic(fmt.Errorf("kernel: Extism memory access out of bounds: %d bytes at offset %d of %d", n, off, len(a.buf)))
	}
}

func (in *Instance) checkInput(off, n uint64) {
	if l := uint64(len(in.input)); off > l || l-off < n {
		panic(fmt.Errorf("kernel: input read out of bounds: %d bytes at offset %d of %d", n, off, l))
	}
}

var (
	i32 = api.ValueTypeI32
	i64 = api.ValueTypeI64
)

type envFunc struct {
	name            string
	fn              api.GoModuleFunc
	params, results []api.ValueType
}

// envFuncs is the kernel: the extism:host/env functions go-pdk imports, with
// Extism's signatures (offsets and lengths are i64).
var envFuncs = []envFunc{
	{"alloc", func(ctx context.Context, _ api.Module, stack []uint64) {
		stack[0] = instanceOf(ctx).arena.alloc(stack[0])
	}, []api.ValueType{i64}, []api.ValueType{i64}},
	{"free", func(ctx context.Context, _ api.Module, stack []uint64) {
		instanceOf(ctx).arena.free(stack[0])
	}, []api.ValueType{i64}, nil},
	{"length", func(ctx context.Context, _ api.Module, stack []uint64) {
		stack[0] = instanceOf(ctx).arena.length(stack[0])
	}, []api.ValueType{i64}, []api.ValueType{i64}},
	{"length_unsafe", func(ctx context.Context, _ api.Module, stack []uint64) {
		stack[0] = instanceOf(ctx).arena.length(stack[0])
	}, []api.ValueType{i64}, []api.ValueType{i64}},
	{"load_u8", func(ctx context.Context, _ api.Module, stack []uint64) {
		a := &instanceOf(ctx).arena
		a.check(stack[0], 1)
		stack[0] = uint64(a.buf[stack[0]])
	}, []api.ValueType{i64}, []api.ValueType{i32}},
	{"load_u64", func(ctx context.Context, _ api.Module, stack []uint64) {
		a := &instanceOf(ctx).arena
		a.check(stack[0], 8)
		stack[0] = binary.LittleEndian.Uint64(a.buf[stack[0]:])
	}, []api.ValueType{i64}, []api.ValueType{i64}},
	{"store_u8", func(ctx context.Context, _ api.Module, stack []uint64) {
		a := &instanceOf(ctx).arena
		a.check(stack[0], 1)
		a.buf[stack[0]] = byte(stack[1])
	}, []api.ValueType{i64, i32}, nil},
	{"store_u64", func(ctx context.Context, _ api.Module, stack []uint64) {
		a := &instanceOf(ctx).arena
		a.check(stack[0], 8)
		binary.LittleEndian.PutUint64(a.buf[stack[0]:], stack[1])
	}, []api.ValueType{i64, i64}, nil},
	{"input_length", func(ctx context.Context, _ api.Module, stack []uint64) {
		stack[0] = uint64(len(instanceOf(ctx).input))
	}, nil, []api.ValueType{i64}},
	{"input_load_u8", func(ctx context.Context, _ api.Module, stack []uint64) {
		in := instanceOf(ctx)
		in.checkInput(stack[0], 1)
		stack[0] = uint64(in.input[stack[0]])
	}, []api.ValueType{i64}, []api.ValueType{i32}},
	{"input_load_u64", func(ctx context.Context, _ api.Module, stack []uint64) {
		in := instanceOf(ctx)
		in.checkInput(stack[0], 8)
		stack[0] = binary.LittleEndian.Uint64(in.input[stack[0]:])
	}, []api.ValueType{i64}, []api.ValueType{i64}},
	{"output_set", func(ctx context.Context, _ api.Module, stack []uint64) {
		in := instanceOf(ctx)
		in.outputAt, in.outputLen = stack[0], stack[1]
	}, []api.ValueType{i64, i64}, nil},
	{"error_set", func(ctx context.Context, _ api.Module, stack []uint64) {
		instanceOf(ctx).errorAt = stack[0]
	}, []api.ValueType{i64}, nil},
}
