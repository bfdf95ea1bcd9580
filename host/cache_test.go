package host

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/deviceflow/deviceflow/host/internal/kernel"
)

// compileTimed compiles the plugin with dir as its cache, checks that the
// result runs, and returns how long the compilation took.
func compileTimed(t *testing.T, dir string) time.Duration {
	t.Helper()
	ctx := context.Background()
	start := time.Now()
	c, cache, err := compilePlugin(ctx, dir)
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	defer func(c *kernel.Module, cache wazero.CompilationCache) {
		c.Close(ctx)
		if cache != nil {
			cache.Close(ctx)
		}
	}(c, cache)
	if (cache != nil) != (dir != "") {
		t.Fatalf("dir %q, cache %v", dir, cache)
	}
	in, err := c.Instance(ctx, moduleConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close(ctx)
	if rc, out, err := in.Call(ctx, "info", []byte(`{}`)); err != nil || rc != 0 || len(out) == 0 {
		t.Fatalf("info: %d %s %v", rc, out, err)
	}
	return took
}

// cacheEntries lists the files wazero keeps in a cache directory.
func cacheEntries(t *testing.T, dir string) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "wazero-*", "*"))
	return files
}

// TestCompilationCache: a new runtime with the same cache directory (what
// a second process does) loads the compiled code instead of compiling it.
func TestCompilationCache(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cold := compileTimed(t, dir)
	entries := cacheEntries(t, dir)
	if len(entries) == 0 {
		t.Fatal("no cache entry written")
	}
	warm := compileTimed(t, dir)
	t.Logf("compile: cold %v, from the cache %v", cold, warm)
	if warm*3 > cold {
		t.Errorf("loading from the cache (%v) is not much faster than compiling (%v)", warm, cold)
	}
}

// emptyModule is the smallest wasm module: it keeps the damaged-cache test
// fast (the plugin itself takes seconds to compile without a cache).
var emptyModule = []byte("\x00asm\x01\x00\x00\x00")

// TestCompilationCacheDamaged: a damaged entry is replaced instead of
// failing the load.
func TestCompilationCacheDamaged(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	compile := func() {
		t.Helper()
		c, cache, err := compileCached(ctx, dir, emptyModule)
		if err != nil {
			t.Fatal(err)
		}
		if cache == nil {
			t.Fatal("compiled without the cache")
		}
		c.Close(ctx)
		cache.Close(ctx)
	}
	compile()
	entries := cacheEntries(t, dir)
	if len(entries) == 0 {
		t.Fatal("no cache entry written")
	}
	for _, e := range entries {
		if err := os.WriteFile(e, []byte("damaged"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// wazero alone fails on the damaged entries.
	cache, _ := wazero.NewCompilationCacheWithDir(dir)
	if c, err := compileWith(ctx, cache, emptyModule); err == nil {
		c.Close(ctx)
		t.Fatal("the damage went unnoticed: the test proves nothing")
	}
	cache.Close(ctx)
	compile()
	after := cacheEntries(t, dir)
	if len(after) == 0 {
		t.Fatal("the entries were not written again")
	}
	for _, e := range after {
		if b, _ := os.ReadFile(e); string(b) == "damaged" {
			t.Errorf("%s is still damaged", filepath.Base(e))
		}
	}
}

// TestCompilationCacheUnusable: a cache directory that cannot be created
// is skipped.
func TestCompilationCacheUnusable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "a-file")
	os.WriteFile(file, nil, 0o600)
	c, cache, err := compileCached(ctx, filepath.Join(file, "cache"), emptyModule)
	if err != nil || cache != nil {
		t.Fatalf("cache %v, err %v; want a plugin without a cache", cache, err)
	}
	c.Close(ctx)
}

func TestCacheDir(t *testing.T) {
	t.Setenv("DEVICEFLOW_CACHE_DIR", "off")
	if d := CacheDir(); d != "" {
		t.Errorf("off: %q", d)
	}
	t.Setenv("DEVICEFLOW_CACHE_DIR", "/some/where")
	if d := CacheDir(); d != "/some/where" {
		t.Errorf("set: %q", d)
	}
	os.Unsetenv("DEVICEFLOW_CACHE_DIR")
	t.Setenv("XDG_CACHE_HOME", "/xdg-cache")
	t.Setenv("HOME", "/home/someone")
	if base, err := os.UserCacheDir(); err == nil {
		if d := CacheDir(); d != filepath.Join(base, "deviceflow", "wazero") {
			t.Errorf("default: %q", d)
		}
	}
}

// TestPreload: Preload compiles the plugin in the background, through the
// cache, and the next call uses what it compiled instead of compiling again.
func TestPreload(t *testing.T) {
	t.Setenv("DEVICEFLOW_CACHE_DIR", t.TempDir())
	forgetCompilation()
	defer forgetCompilation()
	Preload()
	Preload()
	m, err := compiledPlugin(context.Background())
	if err != nil || m == nil {
		t.Fatalf("compiled after Preload: %v, %v", m, err)
	}
	entries, _ := os.ReadDir(CacheDir())
	if len(entries) == 0 {
		t.Fatal("Preload wrote nothing to the compilation cache")
	}
	h, err := New(Options{Store: NewMemoryStore()})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())
	if _, err := h.Call(context.Background(), "info", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	if again, _ := compiledPlugin(context.Background()); again != m {
		t.Fatal("the call compiled the plugin again")
	}
}
