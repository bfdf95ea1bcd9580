package host

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/deviceflow/deviceflow/sdk/deviceflow/deviceflowtest"
)

// Start-up benchmarks. They live in package host because they reset its
// once-per-process compilation, so each iteration starts as a new process
// would (the embedded wasm is already in memory, as in a process).
// Run them alone: go test ./host -run '^$' -bench Startup

// forgetCompilation drops the process's compiled plugin, as if the
// process had just started.
func forgetCompilation() {
	preloading.Wait()
	if compiled != nil {
		compiled.Close(context.Background())
	}
	compileOnce = sync.Once{}
	compiled, compileErr = nil, nil
}

// cachedEntry signs in once against an emulator and returns the store
// content and the input that finds it: what a program has on its second
// run.
func cachedEntry(b *testing.B) (map[string]string, []byte) {
	b.Helper()
	emu := deviceflowtest.NewServer(deviceflowtest.Config{Interval: 10 * time.Millisecond, AutoApprove: 1})
	defer emu.Close()
	store := NewMemoryStore()
	h, err := New(Options{BaseURL: emu.URL(), Store: store})
	if err != nil {
		b.Fatal(err)
	}
	in, _ := json.Marshal(map[string]any{"clientId": "Ov23liBench", "scopes": []string{"repo"}, "baseUrl": emu.URL()})
	if _, err := h.Call(context.Background(), "authenticate", in); err != nil {
		b.Fatal(err)
	}
	h.Close(context.Background())
	return store.Snapshot(), in
}

// BenchmarkStartupColdCompile compiles the plugin with no compilation
// cache: what the very first run on a machine pays.
func BenchmarkStartupColdCompile(b *testing.B) {
	b.Setenv("DEVICEFLOW_CACHE_DIR", "off")
	defer forgetCompilation()
	for b.Loop() {
		forgetCompilation()
		if _, err := compiledPlugin(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStartupFirstCallWarmCache is a new process's first call with a
// warm on-disk compilation cache: load the compiled code from the cache,
// instantiate the plugin, and answer authenticate from the store (a cached
// token, no request). The goal is ≤ 20 ms.
func BenchmarkStartupFirstCallWarmCache(b *testing.B) {
	b.Setenv("DEVICEFLOW_CACHE_DIR", b.TempDir())
	defer forgetCompilation()
	entries, in := cachedEntry(b) // also fills the cache
	ctx := context.Background()
	for b.Loop() {
		forgetCompilation()
		store := NewMemoryStore()
		for k, v := range entries {
			store.Set(ctx, k, v)
		}
		h, err := New(Options{Store: store, AllowedHosts: []string{"127.0.0.1"}})
		if err != nil {
			b.Fatal(err)
		}
		out, err := h.Call(ctx, "authenticate", in)
		if err != nil || len(out) == 0 {
			b.Fatal(err)
		}
		h.Close(ctx)
	}
}

// BenchmarkStartupInstantiate is the instantiation alone, once the plugin
// is compiled in the process and has made two instances (a pool growing,
// or an instance replacing one discarded): from the second on, instances
// start from a snapshot of one just initialised (host/internal/kernel).
func BenchmarkStartupInstantiate(b *testing.B) {
	benchmarkNewInstances(b, "")
}

// BenchmarkStartupInstantiateAndCall is a new instance and its first
// call (info): with instances started from a snapshot, the memory's pages
// are mapped when first touched, so some of a new instance's cost moves to
// its first call, which this counts.
func BenchmarkStartupInstantiateAndCall(b *testing.B) {
	benchmarkNewInstances(b, "info")
}

// benchmarkNewInstances makes new instances from an empty pool, calling
// export on each unless it is "", after two made beforehand, as a process
// that has made instances before has.
func benchmarkNewInstances(b *testing.B, export string) {
	ctx := context.Background()
	newInstance := func() {
		var p pool
		in, err := p.get(ctx)
		if err != nil {
			b.Fatal(err)
		}
		defer in.Close(ctx)
		if export == "" {
			return
		}
		if _, _, err := in.Call(ctx, export, []byte("{}")); err != nil {
			b.Fatal(err)
		}
	}
	newInstance()
	newInstance()
	for b.Loop() {
		newInstance()
	}
}

// BenchmarkStartupWarmCall is authenticate from the store on a warm
// instance: the steady cost of Token in a long-running program.
func BenchmarkStartupWarmCall(b *testing.B) {
	entries, in := cachedEntry(b)
	ctx := context.Background()
	store := NewMemoryStore()
	for k, v := range entries {
		store.Set(ctx, k, v)
	}
	h, err := New(Options{Store: store, AllowedHosts: []string{"127.0.0.1"}})
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close(ctx)
	h.Call(ctx, "authenticate", in)
	for b.Loop() {
		if _, err := h.Call(ctx, "authenticate", in); err != nil {
			b.Fatal(err)
		}
	}
}
