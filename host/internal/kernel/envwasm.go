package kernel

import "github.com/deviceflow/deviceflow/plugin/wasmfile"

// The kernel's loads and stores are the calls a plugin makes most: go-pdk
// and our guest move every byte of input, output and host-call payload 8
// bytes per call (about 270 calls in one poll). A call from wasm into a Go
// host function leaves the compiled code and costs about 50-75 ns in
// wazero; a call into another wasm module's function costs a few. So each
// instance's extism:host/env is a small wasm module, written here byte by
// byte: it holds the instance's Extism memory as its own linear memory,
// answers load_*, store_*, input_length and input_load_* itself, and
// re-exports the Go functions that allocate, free and record the output
// and error (defined once per runtime in goEnvModule). The Go side
// (arena.go) owns the blocks and keeps the module's globals current: top,
// the end of the last block, and the input's offset and length.

// goEnvModule is the Go half of the kernel, imported by every instance's
// env module.
const goEnvModule = "deviceflow:kernel/env"

// The names the env module exports its memory and globals under (the
// Go half reads and sets them; the plugin imports none of them).
const (
	globalTop     = "deviceflow.top"
	globalInBase  = "deviceflow.input_base"
	globalInLen   = "deviceflow.input_length"
	envMemoryName = "deviceflow.memory"
)

// The wasm value types and opcodes the env module is written with.
const (
	tI32 = 0x7f
	tI64 = 0x7e

	opUnreachable = 0x00
	opIf          = 0x04
	opEnd         = 0x0b
	opLocalGet    = 0x20
	opGlobalGet   = 0x23
	opI64Load     = 0x29
	opI32Load8U   = 0x2d
	opI32Store8   = 0x3a
	opI64Store    = 0x37
	opI64Const    = 0x42
	opI64LtU      = 0x54
	opI64GtU      = 0x56
	opI32Or       = 0x72
	opI64Add      = 0x7c
	opI64Sub      = 0x7d
	opI32WrapI64  = 0xa7
	blockVoid     = 0x40
)

// wasmSig is a function type: its parameter and result value types.
type wasmSig struct{ params, results []byte }

var (
	sigI64toI64   = wasmSig{[]byte{tI64}, []byte{tI64}}
	sigI64        = wasmSig{[]byte{tI64}, nil}
	sigI64toI32   = wasmSig{[]byte{tI64}, []byte{tI32}}
	sigI64I32     = wasmSig{[]byte{tI64, tI32}, nil}
	sigI64I64     = wasmSig{[]byte{tI64, tI64}, nil}
	sigNoneToI64  = wasmSig{nil, []byte{tI64}}
	envModuleSigs = []wasmSig{sigI64toI64, sigI64, sigI64toI32, sigI64I32, sigI64I64, sigNoneToI64}
)

// The indices of the env module's globals.
const (
	globalTopIndex = 0
	globalInBaseIx = 1
	globalInLenIx  = 2
)

func sigIndex(s wasmSig) byte {
	for i, t := range envModuleSigs {
		if string(t.params) == string(s.params) && string(t.results) == string(s.results) {
			return byte(i)
		}
	}
	panic("kernel: no such signature")
}

// envWasmFunc is one function of the env module: its Extism name and
// signature, and its body (nil for a Go function it imports).
type envWasmFunc struct {
	name string
	sig  wasmSig
	body []byte
}

// checkArena traps unless n bytes at the offset in local 0 lie in the
// arena: base <= off, off <= top and top-off >= n (the arena's inBounds).
func checkArena(n byte) []byte {
	return []byte{
		opLocalGet, 0, opI64Const, base, opI64LtU,
		opLocalGet, 0, opGlobalGet, byte(globalTopIndex), opI64GtU, opI32Or,
		opGlobalGet, byte(globalTopIndex), opLocalGet, 0, opI64Sub, opI64Const, n, opI64LtU, opI32Or,
		opIf, blockVoid, opUnreachable, opEnd,
	}
}

// checkInput traps unless n bytes at the offset in local 0 lie in the
// input: off <= len and len-off >= n.
func checkInput(n byte) []byte {
	return []byte{
		opLocalGet, 0, opGlobalGet, byte(globalInLenIx), opI64GtU,
		opGlobalGet, byte(globalInLenIx), opLocalGet, 0, opI64Sub, opI64Const, n, opI64LtU, opI32Or,
		opIf, blockVoid, opUnreachable, opEnd,
	}
}

// cat is a function body: the parts, then end.
func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return append(b, opEnd)
}

// A memory access with alignment hint 0 and offset 0.
func mem(op byte) []byte { return []byte{op, 0, 0} }

var (
	arenaAddr = []byte{opLocalGet, 0, opI32WrapI64}
	inputAddr = []byte{opGlobalGet, byte(globalInBaseIx), opLocalGet, 0, opI64Add, opI32WrapI64}
)

// envWasmFuncs are the env module's functions, Go imports first.
var envWasmFuncs = []envWasmFunc{
	{"alloc", sigI64toI64, nil},
	{"free", sigI64, nil},
	{"length", sigI64toI64, nil},
	{"length_unsafe", sigI64toI64, nil},
	{"output_set", sigI64I64, nil},
	{"error_set", sigI64, nil},
	{"load_u8", sigI64toI32, cat(checkArena(1), arenaAddr, mem(opI32Load8U))},
	{"load_u64", sigI64toI64, cat(checkArena(8), arenaAddr, mem(opI64Load))},
	{"store_u8", sigI64I32, cat(checkArena(1), arenaAddr, []byte{opLocalGet, 1}, mem(opI32Store8))},
	{"store_u64", sigI64I64, cat(checkArena(8), arenaAddr, []byte{opLocalGet, 1}, mem(opI64Store))},
	{"input_length", sigNoneToI64, cat([]byte{opGlobalGet, byte(globalInLenIx)})},
	{"input_load_u8", sigI64toI32, cat(checkInput(1), inputAddr, mem(opI32Load8U))},
	{"input_load_u64", sigI64toI64, cat(checkInput(8), inputAddr, mem(opI64Load))},
}

// envWasm is the env module's binary.
var envWasm = buildEnvWasm()

func buildEnvWasm() []byte {
	name := func(s string) []byte { return append(wasmfile.AppendULEB(nil, uint64(len(s))), s...) }
	vec := func(items [][]byte) []byte {
		b := wasmfile.AppendULEB(nil, uint64(len(items)))
		for _, it := range items {
			b = append(b, it...)
		}
		return b
	}
	section := func(id byte, body []byte) []byte {
		return append(append([]byte{id}, wasmfile.AppendULEB(nil, uint64(len(body)))...), body...)
	}

	var types, imports, funcs, code, exports [][]byte
	for _, s := range envModuleSigs {
		t := append([]byte{0x60}, wasmfile.AppendULEB(nil, uint64(len(s.params)))...)
		t = append(t, s.params...)
		t = append(t, wasmfile.AppendULEB(nil, uint64(len(s.results)))...)
		types = append(types, append(t, s.results...))
	}
	for i, f := range envWasmFuncs {
		if f.body == nil {
			imports = append(imports, append(append(name(goEnvModule), name(f.name)...), 0x00, sigIndex(f.sig)))
		} else {
			funcs = append(funcs, []byte{sigIndex(f.sig)})
			body := append([]byte{0x00}, f.body...) // no locals
			code = append(code, append(wasmfile.AppendULEB(nil, uint64(len(body))), body...))
		}
		exports = append(exports, append(append(name(f.name), 0x00), wasmfile.AppendULEB(nil, uint64(i))...))
	}
	exports = append(exports,
		append(name(envMemoryName), 0x02, 0x00),
		append(name(globalTop), 0x03, byte(globalTopIndex)),
		append(name(globalInBase), 0x03, byte(globalInBaseIx)),
		append(name(globalInLen), 0x03, byte(globalInLenIx)),
	)
	// Three mutable i64 globals: top starts at base (an empty arena),
	// the input's offset and length at 0.
	globals := [][]byte{
		{tI64, 0x01, opI64Const, base, opEnd},
		{tI64, 0x01, opI64Const, 0, opEnd},
		{tI64, 0x01, opI64Const, 0, opEnd},
	}
	// One page to start with and no maximum of its own: the arena's
	// limit is enforced by alloc, the runtime's by wazero.
	memories := [][]byte{{0x00, 0x01}}

	out := []byte{0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00}
	out = append(out, section(1, vec(types))...)
	out = append(out, section(2, vec(imports))...)
	out = append(out, section(3, vec(funcs))...)
	out = append(out, section(5, vec(memories))...)
	out = append(out, section(6, vec(globals))...)
	out = append(out, section(7, vec(exports))...)
	out = append(out, section(10, vec(code))...)
	return out
}
