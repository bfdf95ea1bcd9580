package kernel

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/deviceflow/deviceflow/plugin"
)

// userFuncs are the plugin's extism:host/user imports, answering as little
// as the info export needs (nothing).
func userFuncs() []Func {
	ptr := []api.ValueType{api.ValueTypeI64}
	noop := func(context.Context, *Instance, []uint64) {}
	return []Func{
		{Name: "http_request", Params: ptr, Results: ptr, Fn: noop},
		{Name: "sleep", Params: ptr, Results: []api.ValueType{api.ValueTypeI32}, Fn: noop},
		{Name: "now", Results: ptr, Fn: noop},
		{Name: "monotonic", Results: ptr, Fn: noop},
		{Name: "store_get", Params: ptr, Results: ptr, Fn: noop},
		{Name: "store_swap", Params: ptr, Results: ptr, Fn: noop},
		{Name: "store_lock", Params: ptr, Results: ptr, Fn: noop},
		{Name: "store_unlock", Params: ptr, Results: ptr, Fn: noop},
		{Name: "emit", Params: ptr, Results: []api.ValueType{api.ValueTypeI32}, Fn: noop},
	}
}

var (
	compileOnce sync.Once
	compiled    *Module
	compileErr  error
)

// compile compiles the plugin once for the package's tests (with no cache,
// it takes seconds).
func compile(t testing.TB) *Module {
	t.Helper()
	compileOnce.Do(func() {
		compiled, compileErr = Compile(context.Background(), plugin.Wasm, Config{MaxMemoryPages: 1024, Funcs: userFuncs()})
	})
	if compileErr != nil {
		t.Fatal(compileErr)
	}
	return compiled
}

// TestPluginImports: every extism:host/env function the plugin imports is
// defined here, with the signature it expects; and the plugin exports the
// contract's functions and the WASI reactor's _initialize.
func TestPluginImports(t *testing.T) {
	m := compile(t)
	env := m.env.ExportedFunctions()
	for _, d := range m.compiled.ImportedFunctions() {
		mod, name, _ := d.Import()
		if mod != EnvModule {
			continue
		}
		f, ok := env[name]
		if !ok {
			t.Errorf("the plugin imports %s %s, which the kernel does not define", mod, name)
			continue
		}
		if !slices.Equal(f.ParamTypes(), d.ParamTypes()) || !slices.Equal(f.ResultTypes(), d.ResultTypes()) {
			t.Errorf("%s: the plugin wants %v -> %v, the kernel has %v -> %v", name, d.ParamTypes(), d.ResultTypes(), f.ParamTypes(), f.ResultTypes())
		}
	}
	exports := m.ExportedFunctions()
	for _, name := range []string{"_initialize", "authenticate", "begin", "poll", "refresh", "check", "logout", "authorize", "info"} {
		if _, ok := exports[name]; !ok {
			t.Errorf("the plugin does not export %s", name)
		}
	}
}

// TestCall: input in, output out, through the kernel; many calls on one
// instance start from empty Extism memory each time.
func TestCall(t *testing.T) {
	m := compile(t)
	ctx := context.Background()
	in, err := m.Instance(ctx, wazero.NewModuleConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close(ctx)
	var first []byte
	for i := 0; i < 50; i++ {
		rc, out, err := in.Call(ctx, "info", []byte(`{}`))
		if err != nil || rc != 0 || !strings.Contains(string(out), `"abi"`) {
			t.Fatalf("info: %d %s %v", rc, out, err)
		}
		if first == nil {
			first = out
		} else if string(out) != string(first) {
			t.Fatalf("call %d answered %s, the first %s", i, out, first)
		}
	}
	if len(in.arena.buf) > 4096 {
		t.Errorf("Extism memory grew to %d bytes over calls that each need little", len(in.arena.buf))
	}
	if rc, _, err := in.Call(ctx, "nothing", nil); err == nil || rc != 1 {
		t.Errorf("an unknown export: %d %v", rc, err)
	}
	// A second instance in the same runtime.
	in2, err := m.Instance(ctx, wazero.NewModuleConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer in2.Close(ctx)
	if _, out, err := in2.Call(ctx, "info", []byte(`{}`)); err != nil || string(out) != string(first) {
		t.Fatalf("second instance: %s %v", out, err)
	}
}

// TestCallError: an export that fails sets its error with error_set; the
// call returns it as the error, with rc 1.
func TestCallError(t *testing.T) {
	m := compile(t)
	ctx := context.Background()
	in, err := m.Instance(ctx, wazero.NewModuleConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close(ctx)
	rc, _, err := in.Call(ctx, "authenticate", []byte(`not json`))
	if rc != 1 || err == nil || !strings.Contains(err.Error(), `"code":"invalid_input"`) {
		t.Fatalf("got %d %v, want rc 1 and an invalid_input error", rc, err)
	}
}

func TestArena(t *testing.T) {
	a := newArena(1 << 16)
	if a.alloc(0) != 0 {
		t.Error("alloc(0) is not 0")
	}
	x := a.alloc(13)
	y := a.alloc(3)
	if x == 0 || y == 0 || x == y || y < x+13 {
		t.Fatalf("blocks at %d and %d", x, y)
	}
	if a.length(x) != 13 || a.length(y) != 3 || a.length(x+1) != 0 || a.length(0) != 0 {
		t.Errorf("lengths %d %d %d", a.length(x), a.length(y), a.length(x+1))
	}
	copy(a.buf[x:], "hello, world!")
	if string(a.bytes(x)) != "hello, world!" || a.bytes(12345) != nil {
		t.Errorf("bytes %q", a.bytes(x))
	}
	// Freed last-in first-out, the space comes back.
	a.free(y)
	a.free(x)
	if len(a.buf) != base || len(a.blocks) != 0 {
		t.Errorf("after freeing everything: %d bytes, %d blocks", len(a.buf), len(a.blocks))
	}
	// A freed block in the middle is reused.
	x, y = a.alloc(16), a.alloc(16)
	a.free(x)
	if a.length(x) != 0 {
		t.Error("a freed block has a length")
	}
	if z := a.alloc(10); z != x || a.length(z) != 10 {
		t.Errorf("got block %d (%d bytes), want %d reused", z, a.length(z), x)
	}
	// Full: 0.
	if a.alloc(1<<16) != 0 || a.alloc(^uint64(0)) != 0 {
		t.Error("an allocation past the cap succeeded")
	}
	a.reset()
	if a.length(y) != 0 || len(a.buf) != base {
		t.Error("reset kept blocks")
	}
}

// envInstance is an instance of the plugin whose env module's functions
// the test calls directly, as the plugin would, with input in place.
func envInstance(t testing.TB, input string) (context.Context, *Instance, func(name string, stack ...uint64) ([]uint64, error)) {
	t.Helper()
	m := compile(t)
	ctx := context.Background()
	in, err := m.Instance(ctx, wazero.NewModuleConfig())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close(ctx) })
	in.arena.reset()
	off := in.Write([]byte(input))
	in.arena.setInput(off, uint64(len(input)))
	ctx = context.WithValue(ctx, instanceKey{}, in)
	goFuncs := map[string]envFunc{}
	for _, f := range envFuncs {
		goFuncs[f.name] = f
	}
	call := func(name string, stack ...uint64) ([]uint64, error) {
		// The env module re-exports the Go half's functions, which
		// wazero cannot call from Go through it: call them directly.
		if f, ok := goFuncs[name]; ok {
			s := make([]uint64, max(len(f.params), len(f.results)))
			copy(s, stack)
			f.fn(ctx, nil, s)
			return s[:len(f.results)], nil
		}
		f := in.env.ExportedFunction(name)
		if f == nil {
			t.Fatalf("the env module does not export %s", name)
		}
		return f.Call(ctx, stack...)
	}
	return ctx, in, call
}

// TestKernelOutOfBounds: an access outside Extism memory traps the call
// instead of reading or writing anything else.
func TestKernelOutOfBounds(t *testing.T) {
	_, _, call := envInstance(t, "12345678")
	r, err := call("alloc", 8)
	if err != nil {
		t.Fatal(err)
	}
	off := r[0]
	for _, c := range []struct {
		name  string
		stack []uint64
		trap  bool
	}{
		{"load_u64", []uint64{off}, false},
		{"load_u64", []uint64{off + 1}, true},
		{"load_u64", []uint64{0}, true},
		{"load_u64", []uint64{^uint64(0) - 3}, true},
		{"load_u64", []uint64{1 << 32}, true},
		{"load_u8", []uint64{off + 7}, false},
		{"load_u8", []uint64{off + 8}, true},
		{"store_u64", []uint64{off, 1}, false},
		{"store_u64", []uint64{off + 4, 1}, true},
		{"store_u64", []uint64{^uint64(0), 1}, true},
		{"store_u8", []uint64{3, 1}, true},
		{"input_load_u64", []uint64{0}, false},
		{"input_load_u64", []uint64{1}, true},
		{"input_load_u64", []uint64{^uint64(0) - 3}, true},
		{"input_load_u8", []uint64{7}, false},
		{"input_load_u8", []uint64{8}, true},
	} {
		if _, err := call(c.name, c.stack...); (err != nil) != c.trap {
			t.Errorf("%s%v: trapped %v (%v), want %v", c.name, c.stack, err != nil, err, c.trap)
		}
	}
}

// TestKernelLoadsAndStores: what the plugin stores it loads back, in both
// widths, at the offsets alloc answers; input reads what the call was
// given; and freeing the last block moves the bound its loads check.
func TestKernelLoadsAndStores(t *testing.T) {
	_, in, call := envInstance(t, "0123456789abcdef")
	must := func(name string, stack ...uint64) uint64 {
		t.Helper()
		r, err := call(name, stack...)
		if err != nil {
			t.Fatalf("%s%v: %v", name, stack, err)
		}
		if len(r) == 0 {
			return 0
		}
		return r[0]
	}
	if n := must("input_length"); n != 16 {
		t.Errorf("input_length %d, want 16", n)
	}
	if v := must("input_load_u64", 8); v != 0x6665646362613938 {
		t.Errorf("input_load_u64(8) = %#x, want the bytes 89abcdef", v)
	}
	if v := must("input_load_u8", 15); v != 'f' {
		t.Errorf("input_load_u8(15) = %q", rune(v))
	}
	off := must("alloc", 12)
	if n := must("length", off); n != 12 {
		t.Errorf("length %d, want 12", n)
	}
	must("store_u64", off, 0x0102030405060708)
	must("store_u8", off+8, 0xfe)
	if v := must("load_u64", off); v != 0x0102030405060708 {
		t.Errorf("load_u64 = %#x", v)
	}
	if v := must("load_u8", off+8); v != 0xfe {
		t.Errorf("load_u8 = %#x", v)
	}
	if got := in.Bytes(off); string(got[:9]) != "\x08\x07\x06\x05\x04\x03\x02\x01\xfe" {
		t.Errorf("the block holds %x", got)
	}
	// Past the first page: the memory grows and loads follow it.
	big := must("alloc", 200_000)
	must("store_u64", big+199_992, 42)
	if v := must("load_u64", big+199_992); v != 42 {
		t.Errorf("load_u64 past the first page = %d", v)
	}
	must("free", big)
	if _, err := call("load_u64", big); err == nil {
		t.Error("a freed last block can still be read")
	}
}

// TestKernelCallsAllocateNothing: the Go half of the kernel allocates
// nothing per call.
func TestKernelCallsAllocateNothing(t *testing.T) {
	ctx, _, _ := envInstance(t, "0123456789abcdef")
	fns := map[string]api.GoModuleFunc{}
	for _, f := range envFuncs {
		fns[f.name] = f.fn
	}
	stack := make([]uint64, 2)
	allocs := testing.AllocsPerRun(100, func() {
		stack[0] = 64
		fns["alloc"](ctx, nil, stack)
		off := stack[0]
		stack[0] = off
		fns["length"](ctx, nil, stack)
		stack[0], stack[1] = off, 8
		fns["output_set"](ctx, nil, stack)
		stack[0] = off
		fns["free"](ctx, nil, stack)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per round of kernel calls", allocs)
	}
}

// BenchmarkInfo is a whole call through the kernel: input in, output out.
func BenchmarkInfo(b *testing.B) {
	m := compile(b)
	ctx := context.Background()
	in, err := m.Instance(ctx, wazero.NewModuleConfig())
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close(ctx)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := in.Call(ctx, "info", []byte(`{}`)); err != nil {
			b.Fatal(err)
		}
	}
}

// TestUndefinedKernelImport: a plugin importing a kernel function this
// kernel does not define fails to compile, naming it.
func TestUndefinedKernelImport(t *testing.T) {
	imp := []byte{1} // one import: extism:host/env config_get, type 0
	imp = append(imp, byte(len(EnvModule)))
	imp = append(imp, EnvModule...)
	imp = append(imp, 10)
	imp = append(imp, "config_get"...)
	imp = append(imp, 0, 0)
	wasm := wasmModule(sec(1, 1, 0x60, 1, 0x7e, 1, 0x7e), sec(sectionImport, imp...))
	m, err := Compile(context.Background(), wasm, Config{})
	if err == nil {
		m.Close(context.Background())
		t.Fatal("compiled")
	}
	if !strings.Contains(err.Error(), "extism:host/env config_get") {
		t.Errorf("the error does not name the import: %v", err)
	}
}
