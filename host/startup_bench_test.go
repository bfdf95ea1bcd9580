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
// is compiled in the process (a new Host, or a pool that is empty).
func BenchmarkStartupInstantiate(b *testing.B) {
	ctx := context.Background()
	if _, err := compiledPlugin(ctx); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		var p pool
		in, err := p.get(ctx)
		if err != nil {
			b.Fatal(err)
		}
		in.Close(ctx)
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
