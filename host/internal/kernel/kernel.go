// Package kernel runs an Extism plugin on wazero directly, without Extism's
// Go SDK: it implements the Extism kernel ABI (the extism:host/env imports:
// memory blocks, input, output and error) itself, beside WASI (wazero's
// wasi_snapshot_preview1) and the host's own extism:host/user functions.
//
// The plugin and its ABI are unchanged: the same module runs in Extism's
// other SDKs. What differs is the cost of a kernel call. Extism's Go SDK
// keeps Extism memory in a second wasm module (the kernel) and calls into it
// through a new wazero function object on every load and store. Here each
// instance's extism:host/env is a small wasm module of its own (envwasm.go)
// whose memory is the instance's Extism memory: the plugin's loads and
// stores, 8 bytes each, are calls from wasm to wasm that never leave the
// compiled code, and the few calls that allocate, free or set the output
// are Go functions (arena.go) that allocate nothing.
//
// Instances are cheap to make. A module in the shape Go's linker writes is
// compiled without its data segments, its initial memory kept as an image
// that each instance maps copy-on-write; from the second instance on, each
// starts from a snapshot of one taken right after its _initialize, before
// any call, so the guest's runtime is not initialised again (split.go,
// image.go, snapshot.go).
//
// Only the kernel functions the plugin imports are defined: store_u8,
// load_u8, store_u64, load_u64, length, length_unsafe, alloc, free,
// input_length, input_load_u8, input_load_u64, output_set and error_set. A
// module that imports others (config, vars, logging, Extism's HTTP) fails
// to compile, naming the import.
package kernel

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"
)

// EnvModule and UserModule are the import namespaces of the Extism kernel
// and of the host's own functions.
const (
	EnvModule  = "extism:host/env"
	UserModule = "extism:host/user"
)

// Func is a host function the plugin imports from extism:host/user. Fn
// reads its parameters from stack and writes its results there, as a
// wazero api.GoModuleFunction does; in is the calling instance, whose
// Extism memory it reads and writes (Bytes, Write).
type Func struct {
	Name            string
	Params, Results []api.ValueType
	Fn              func(ctx context.Context, in *Instance, stack []uint64)
}

// Config configures a Module.
type Config struct {
	// Cache keeps compiled code between runtimes (and processes); none
	// when nil.
	Cache wazero.CompilationCache
	// MaxMemoryPages caps the plugin's linear memory (64 KiB pages) and,
	// in bytes, each instance's Extism memory; 0 is wazero's default for
	// the former and 64 MiB for the latter.
	MaxMemoryPages uint32
	// Funcs are the extism:host/user functions.
	Funcs []Func
}

// Module is a compiled plugin in its own wazero runtime, with WASI and the
// kernel defined. It is safe for concurrent use; its instances are not.
//
// A plugin in the shape Go's linker writes is compiled without its data
// segments (see split): the first instances start from an image of the
// memory those describe and run _initialize, and once a second instance is
// made, its state right after _initialize is kept as a snapshot that every
// later instance starts from instead (see snapshot).
type Module struct {
	rt       wazero.Runtime
	compiled wazero.CompiledModule
	env      wazero.CompiledModule // the env module each instance gets one of
	maxArena uint64

	data    *image   // the initial memory of a split module; nil when the module was not split
	globals []string // a split module's exported mutable globals
	made    atomic.Int64
	snap    atomic.Pointer[snapshot]
	taking  sync.Mutex // held while a snapshot is taken
}

// Compile compiles wasm into a new runtime. Calls into the plugin are not
// interrupted when their context ends (wazero's per-loop check costs too
// much): a host that needs cancellation sees it in its host functions.
func Compile(ctx context.Context, wasm []byte, cfg Config) (*Module, error) {
	rc := wazero.NewRuntimeConfig().WithCloseOnContextDone(false)
	if cfg.MaxMemoryPages > 0 {
		rc = rc.WithMemoryLimitPages(cfg.MaxMemoryPages)
	}
	if cfg.Cache != nil {
		rc = rc.WithCompilationCache(cfg.Cache)
	}
	rt := wazero.NewRuntimeWithConfig(ctx, rc)
	m := &Module{rt: rt, maxArena: 64 << 20}
	if cfg.MaxMemoryPages > 0 {
		m.maxArena = uint64(cfg.MaxMemoryPages) * 65536
	}
	code := wasm
	s, err := splitModule(wasm)
	var built chan *image
	if err == nil {
		code = s.code
		// The memory image is built while wazero validates and compiles
		// the code (or loads it from the cache): both take a while, and
		// a process loading the plugin has another core to spare.
		built = make(chan *image, 1)
		go func() { built <- dataImage(s) }()
	}
	if err := m.define(ctx, cfg.Funcs); err != nil {
		rt.Close(ctx)
		return nil, err
	}
	compiled, err := rt.CompileModule(ctx, code)
	if err != nil {
		rt.Close(ctx)
		return nil, err
	}
	if err := m.checkEnvImports(compiled); err != nil {
		rt.Close(ctx)
		return nil, err
	}
	m.compiled = compiled
	if s != nil {
		m.data, m.globals = <-built, s.globals
	}
	return m, nil
}

// define instantiates the imports: WASI, the Go half of the kernel and
// the host's functions, and compiles the env module.
func (m *Module) define(ctx context.Context, funcs []Func) error {
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, m.rt); err != nil {
		return fmt.Errorf("defining WASI: %w", err)
	}
	goEnv := m.rt.NewHostModuleBuilder(goEnvModule)
	for _, f := range envFuncs {
		goEnv.NewFunctionBuilder().WithGoModuleFunction(f.fn, f.params, f.results).Export(f.name)
	}
	if _, err := goEnv.Instantiate(ctx); err != nil {
		return fmt.Errorf("defining %s: %w", goEnvModule, err)
	}
	env, err := m.rt.CompileModule(ctx, envWasm)
	if err != nil {
		return fmt.Errorf("compiling %s: %w", EnvModule, err)
	}
	m.env = env
	user := m.rt.NewHostModuleBuilder(UserModule)
	for _, f := range funcs {
		fn := f.Fn
		user.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, _ api.Module, stack []uint64) {
			fn(ctx, instanceOf(ctx), stack)
		}), f.Params, f.Results).Export(f.Name)
	}
	if _, err := user.Instantiate(ctx); err != nil {
		return fmt.Errorf("defining %s: %w", UserModule, err)
	}
	return nil
}

// checkEnvImports refuses a plugin that imports an extism:host/env function
// the kernel does not define, or with another signature, naming it (each
// instance's env module is anonymous, so wazero's own message would not).
func (m *Module) checkEnvImports(compiled wazero.CompiledModule) error {
	defined := m.env.ExportedFunctions()
	for _, d := range compiled.ImportedFunctions() {
		mod, name, _ := d.Import()
		if mod != EnvModule {
			continue
		}
		f, ok := defined[name]
		if !ok {
			return fmt.Errorf("the plugin imports %s %s, which this host's Extism kernel does not define (it defines the memory, input, output and error functions only)", mod, name)
		}
		if !slices.Equal(f.ParamTypes(), d.ParamTypes()) || !slices.Equal(f.ResultTypes(), d.ResultTypes()) {
			return fmt.Errorf("the plugin imports %s %s with another signature than Extism's", mod, name)
		}
	}
	return nil
}

// Close releases the runtime, closing every instance still open.
func (m *Module) Close(ctx context.Context) error {
	err := m.rt.Close(ctx)
	m.data.close()
	if s := m.snap.Load(); s != nil {
		s.img.close()
	}
	return err
}

// ExportedFunctions describes the plugin's exported functions by name.
func (m *Module) ExportedFunctions() map[string]api.FunctionDefinition {
	return m.compiled.ExportedFunctions()
}

// instanceKey carries the running Instance into the kernel and host
// functions, which are defined once per runtime and shared by every
// instance.
type instanceKey struct{}

func instanceOf(ctx context.Context) *Instance {
	in, _ := ctx.Value(instanceKey{}).(*Instance)
	if in == nil {
		panic("kernel: a host function ran outside a call")
	}
	return in
}

// Instance is one instance of the plugin with its Extism memory. It runs
// one call at a time.
type Instance struct {
	mod   api.Module
	env   api.Module              // its extism:host/env, holding its Extism memory
	funcs map[string]api.Function // exports, looked up once
	stack [1]uint64
	arena arena
	// output and errorAt are what the call set with output_set and
	// error_set: Extism memory offsets (0 for none).
	outputAt, outputLen uint64
	errorAt             uint64
}

// Instance instantiates the plugin with mc (its name and start functions
// are set here) and runs its WASI reactor initialisation, _initialize,
// when it exports one, or starts it from the module's snapshot.
func (m *Module) Instance(ctx context.Context, mc wazero.ModuleConfig) (*Instance, error) {
	if s := m.snap.Load(); s != nil {
		return m.restored(ctx, mc, s)
	}
	in, err := m.initialized(ctx, mc)
	if err != nil {
		return nil, err
	}
	// A process that makes one instance never pays for a snapshot; one
	// that makes a second is likely to make more.
	if m.data != nil && m.made.Add(1) >= 2 && m.taking.TryLock() {
		if m.snap.Load() == nil {
			if s, err := takeSnapshot(in.mod, m.globals); err == nil {
				m.snap.Store(s)
			}
		}
		m.taking.Unlock()
	}
	return in, nil
}

// instantiate instantiates the compiled module with its memory starting
// with img (none when nil), anonymous (so that any number of instances
// share the runtime) and with no start functions.
func (m *Module) instantiate(ctx context.Context, mc wazero.ModuleConfig, img *image) (*Instance, error) {
	if mc == nil {
		mc = wazero.NewModuleConfig()
	}
	env, err := m.rt.InstantiateModule(experimental.WithMemoryAllocator(ctx, envMemoryAllocator()), m.env, wazero.NewModuleConfig().WithName("").WithStartFunctions())
	if err != nil {
		return nil, fmt.Errorf("instantiating %s: %w", EnvModule, err)
	}
	in := &Instance{env: env, funcs: map[string]api.Function{}, arena: envArena(env, m.maxArena)}
	ctx = context.WithValue(ctx, instanceKey{}, in)
	ctx = experimental.WithImportResolver(ctx, func(name string) api.Module {
		if name == EnvModule {
			return env
		}
		return nil
	})
	mod, err := m.rt.InstantiateModule(experimental.WithMemoryAllocator(ctx, memoryAllocator(img)), m.compiled, mc.WithName("").WithStartFunctions())
	if err != nil {
		env.Close(ctx)
		return nil, err
	}
	in.mod = mod
	return in, nil
}

// initialized is a new instance that ran _initialize (when the plugin
// exports it) from the module's initial memory.
func (m *Module) initialized(ctx context.Context, mc wazero.ModuleConfig) (*Instance, error) {
	in, err := m.instantiate(ctx, mc, m.data)
	if err != nil {
		return nil, err
	}
	if m.data != nil && !allocatorLoadsImages && !in.mod.Memory().Write(0, m.data.data) {
		in.Close(ctx)
		return nil, errors.New("kernel: the plugin's data does not fit its memory")
	}
	if f := in.mod.ExportedFunction("_initialize"); f != nil {
		ctx = context.WithValue(ctx, instanceKey{}, in)
		if err := f.CallWithStack(ctx, in.stack[:]); err != nil && !exitedOK(err) {
			in.Close(ctx)
			return nil, fmt.Errorf("initializing the plugin: %w", err)
		}
	}
	return in, nil
}

// restored is a new instance started from s.
func (m *Module) restored(ctx context.Context, mc wazero.ModuleConfig, s *snapshot) (*Instance, error) {
	in, err := m.instantiate(ctx, mc, s.img)
	if err != nil {
		return nil, err
	}
	if err := s.restore(in.mod, m.globals); err != nil {
		in.Close(ctx)
		return nil, err
	}
	return in, nil
}

// exitedOK reports whether err is a WASI exit with code 0.
func exitedOK(err error) bool {
	var exit *sys.ExitError
	return errors.As(err, &exit) && exit.ExitCode() == 0
}

// Close releases the instance.
func (in *Instance) Close(ctx context.Context) error {
	err := in.mod.Close(ctx)
	if eerr := in.env.Close(ctx); err == nil {
		err = eerr
	}
	return err
}

// Memory is the plugin's linear memory (not Extism memory).
func (in *Instance) Memory() api.Memory {
	return in.mod.Memory()
}

// Call runs an export with input, as Extism's SDKs do: Extism memory
// starts empty, the export reads input through input_length and
// input_load_*, and its result is rc (its i32 return, or a WASI exit
// code), the bytes it set with output_set, and the message it set with
// error_set as an error. A trap (or an exit other than 0) is an error
// with no output. The output is the caller's; input is read, not kept.
func (in *Instance) Call(ctx context.Context, name string, input []byte) (uint32, []byte, error) {
	f, ok := in.funcs[name]
	if !ok {
		f = in.mod.ExportedFunction(name)
		if f == nil {
			return 1, nil, fmt.Errorf("unknown function: %s", name)
		}
		if n := len(f.Definition().ResultTypes()); n > 1 || len(f.Definition().ParamTypes()) > 0 {
			return 1, nil, fmt.Errorf("function %s is not an Extism export: %d parameters, %d results", name, len(f.Definition().ParamTypes()), n)
		}
		in.funcs[name] = f
	}
	in.arena.reset()
	in.outputAt, in.outputLen, in.errorAt = 0, 0, 0
	if len(input) > 0 {
		// The input is the call's first block, where input_load_* read
		// it; the plugin is never told its offset.
		off := in.Write(input)
		if off == 0 {
			return 1, nil, fmt.Errorf("the input (%d bytes) does not fit Extism memory", len(input))
		}
		in.arena.setInput(off, uint64(len(input)))
	}

	in.stack[0] = 0
	err := f.CallWithStack(context.WithValue(ctx, instanceKey{}, in), in.stack[:])
	var rc uint32
	var exit *sys.ExitError
	switch {
	case err == nil:
		if len(f.Definition().ResultTypes()) == 1 {
			rc = api.DecodeU32(in.stack[0])
		}
	case errors.As(err, &exit):
		rc = exit.ExitCode()
		if rc == 0 {
			err = nil
		}
	default:
		rc = 1
	}
	if err != nil {
		return rc, nil, err
	}
	var callErr error
	if in.errorAt != 0 {
		if msg := in.arena.bytes(in.errorAt); len(msg) > 0 {
			callErr = errors.New(string(msg))
		}
	}
	out, ok := in.arena.slice(in.outputAt, in.outputLen)
	if !ok {
		e := errors.New("failed to get output: outside Extism memory")
		if callErr != nil {
			return rc, nil, errors.Join(callErr, e)
		}
		return rc, nil, e
	}
	return rc, append([]byte{}, out...), callErr
}

// Bytes is the Extism memory block at off: a view, valid until the next
// allocation; nil for 0 or an offset that is not a live block.
func (in *Instance) Bytes(off uint64) []byte {
	return in.arena.bytes(off)
}

// Write allocates a block in Extism memory, copies b into it and returns
// its offset; 0 when b is empty or the memory is full.
func (in *Instance) Write(b []byte) uint64 {
	off := in.arena.alloc(uint64(len(b)))
	if off != 0 {
		copy(in.arena.buf[off:], b)
	}
	return off
}
