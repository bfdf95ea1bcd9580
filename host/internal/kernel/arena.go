package kernel

import (
	"context"
	"sort"

	"github.com/tetratelabs/wazero/api"
)

// arena is an instance's Extism memory: blocks of bytes addressed by
// offsets that are never 0. The bytes are the linear memory of the
// instance's env module (envwasm.go), which loads and stores them itself;
// the arena decides where blocks go and keeps the module's top global at
// the end of the last one, the bound its loads and stores check. It is
// emptied at the start of every call, as Extism's kernel does, so a call's
// blocks need not be freed; blocks freed last-in first-out (how go-pdk
// frees a host call's argument and answer) give their space back at once,
// and other freed blocks are reused. A wasm memory never shrinks: an
// instance keeps the most Extism memory one of its calls needed.
type arena struct {
	// buf[base:len(buf)] holds the blocks; offsets index buf directly.
	// buf is a view of mem (its capacity, mem's size), or Go bytes when
	// mem is nil.
	buf    []byte
	blocks []block // in offset order
	max    uint64  // the most bytes the blocks may take

	mem                api.Memory
	top, inBase, inLen api.MutableGlobal
}

type block struct {
	off, len, cap uint64
	free          bool
}

// base is the first offset: 0 means "no block", and blocks stay 8-byte
// aligned.
const base = 8

// newArena is an arena of Go bytes (no env module), for the arena's own
// tests.
func newArena(max uint64) arena {
	return arena{buf: make([]byte, base, 4096), max: max}
}

// envArena is the arena of an instance of the env module.
func envArena(env api.Module, max uint64) arena {
	a := arena{
		max:    max,
		mem:    env.ExportedMemory(envMemoryName),
		top:    env.ExportedGlobal(globalTop).(api.MutableGlobal),
		inBase: env.ExportedGlobal(globalInBase).(api.MutableGlobal),
		inLen:  env.ExportedGlobal(globalInLen).(api.MutableGlobal),
	}
	a.buf = a.view()[:base]
	return a
}

// view is the whole of the env module's memory.
func (a *arena) view() []byte {
	n := a.mem.Size()
	b, _ := a.mem.Read(0, n)
	return b[:n:n]
}

// setTop tells the env module where the blocks end.
func (a *arena) setTop() {
	if a.top != nil {
		a.top.Set(uint64(len(a.buf)))
	}
}

// reset empties the arena.
func (a *arena) reset() {
	a.buf = a.buf[:base]
	a.blocks = a.blocks[:0]
	a.setTop()
	a.setInput(0, 0)
}

// setInput tells the env module where the call's input is.
func (a *arena) setInput(off, n uint64) {
	if a.inBase != nil {
		a.inBase.Set(off)
		a.inLen.Set(n)
	}
}

// grow makes room for n bytes in buf; false when the memory cannot grow.
func (a *arena) grow(n uint64) bool {
	if n <= uint64(cap(a.buf)) {
		return true
	}
	if a.mem == nil {
		b := make([]byte, len(a.buf), max(n, 2*uint64(cap(a.buf))))
		copy(b, a.buf)
		a.buf = b
		return true
	}
	pages := (n - uint64(cap(a.buf)) + 65535) / 65536
	if pages > 65536 {
		return false
	}
	if _, ok := a.mem.Grow(uint32(pages)); !ok {
		return false
	}
	a.buf = a.view()[:len(a.buf)]
	return true
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
	if !a.grow(top + size) {
		return 0
	}
	a.buf = a.buf[:top+size]
	clear(a.buf[top:])
	a.blocks = append(a.blocks, block{off: top, len: n, cap: size})
	a.setTop()
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
	a.setTop()
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

var i64 = api.ValueTypeI64

type envFunc struct {
	name            string
	fn              api.GoModuleFunc
	params, results []api.ValueType
}

// envFuncs are the Go half of the kernel (module goEnvModule), which each
// instance's env module imports and exports as Extism's: the functions
// that allocate, free and record the output and error, with Extism's
// signatures (offsets and lengths are i64). Loads and stores are the env
// module's own.
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
	{"output_set", func(ctx context.Context, _ api.Module, stack []uint64) {
		in := instanceOf(ctx)
		in.outputAt, in.outputLen = stack[0], stack[1]
	}, []api.ValueType{i64, i64}, nil},
	{"error_set", func(ctx context.Context, _ api.Module, stack []uint64) {
		instanceOf(ctx).errorAt = stack[0]
	}, []api.ValueType{i64}, nil},
}
