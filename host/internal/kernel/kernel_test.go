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
	env := map[string]envFunc{}
	for _, f := range envFuncs {
		env[f.name] = f
	}
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
		if !slices.Equal(f.params, d.ParamTypes()) || !slices.Equal(f.results, d.ResultTypes()) {
			t.Errorf("%s: the plugin wants %v -> %v, the kernel has %v -> %v", name, d.ParamTypes(), d.ResultTypes(), f.params, f.results)
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

// TestKernelOutOfBounds: an access outside Extism memory traps the call
// instead of reading or writing anything else.
func TestKernelOutOfBounds(t *testing.T) {
	in := &Instance{arena: newArena(1 << 16), input: []byte("12345678")}
	ctx := context.WithValue(context.Background(), instanceKey{}, in)
	off := in.arena.alloc(8)
	fns := map[string]api.GoModuleFunc{}
	for _, f := range envFuncs {
		fns[f.name] = f.fn
	}
	traps := func(name string, stack ...uint64) (trapped bool) {
		defer func() { trapped = recover() != nil }()
		fns[name](ctx, nil, append(stack, 0))
		return false
	}
	for _, c := range []struct {
		name  string
		stack []uint64
		trap  bool
	}{
		{"load_u64", []uint64{off}, false},
		{"load_u64", []uint64{off + 1}, true},
		{"load_u64", []uint64{0}, true},
		{"load_u64", []uint64{^uint64(0) - 3}, true},
		{"load_u8", []uint64{off + 7}, false},
		{"load_u8", []uint64{off + 8}, true},
		{"store_u64", []uint64{off, 1}, false},
		{"store_u64", []uint64{off + 4, 1}, true},
		{"store_u8", []uint64{3, 1}, true},
		{"input_load_u64", []uint64{0}, false},
		{"input_load_u64", []uint64{1}, true},
		{"input_load_u8", []uint64{7}, false},
		{"input_load_u8", []uint64{8}, true},
	} {
		if got := traps(c.name, c.stack...); got != c.trap {
			t.Errorf("%s%v: trapped %v, want %v", c.name, c.stack, got, c.trap)
		}
	}
}

// TestKernelCallsAllocateNothing: a load or store through the kernel is a
// function call, with no allocation.
func TestKernelCallsAllocateNothing(t *testing.T) {
	in := &Instance{arena: newArena(1 << 16), input: []byte("0123456789abcdef")}
	ctx := context.WithValue(context.Background(), instanceKey{}, in)
	fns := map[string]api.GoModuleFunc{}
	for _, f := range envFuncs {
		fns[f.name] = f.fn
	}
	stack := make([]uint64, 2)
	var loaded uint64
	allocs := testing.AllocsPerRun(100, func() {
		stack[0] = 64
		fns["alloc"](ctx, nil, stack)
		off := stack[0]
		for i := uint64(0); i < 64; i += 8 {
			stack[0], stack[1] = off+i, 42
			fns["store_u64"](ctx, nil, stack)
			stack[0] = off + i
			fns["load_u64"](ctx, nil, stack)
			loaded = stack[0]
			stack[0] = i % 16
			fns["input_load_u64"](ctx, nil, stack[:1])
		}
		stack[0] = off
		fns["length"](ctx, nil, stack)
		stack[0] = off
		fns["free"](ctx, nil, stack)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per round of kernel calls", allocs)
	}
	if loaded != 42 {
		t.Errorf("loaded %d, stored 42", loaded)
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
