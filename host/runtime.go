package host

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/tetratelabs/wazero"

	"github.com/deviceflow/deviceflow/host/internal/kernel"
	"github.com/deviceflow/deviceflow/plugin"
	"github.com/deviceflow/deviceflow/plugin/flow"
)

// MaxMemoryPages caps the plugin's linear memory: 1024 pages of 64 KiB, 64 MiB.
const MaxMemoryPages = 1024

var (
	compileOnce sync.Once
	compiled    *kernel.Module
	compileErr  error
)

// compiledPlugin compiles the embedded plugin once per process, through the
// on-disk compilation cache when one is available.
func compiledPlugin(ctx context.Context) (*kernel.Module, error) {
	compileOnce.Do(func() {
		compiled, _, compileErr = compilePlugin(context.WithoutCancel(ctx), CacheDir())
	})
	return compiled, compileErr
}

// Preload starts compiling the plugin on another goroutine and returns at
// once, so that the first call finds it compiled, or waits less for it: a
// program that will call the plugin soon calls Preload first and does its
// other start-up work (flags, opening a store) meanwhile. Calling it again,
// or after the plugin is compiled, does nothing.
func Preload() {
	preloading.Add(1)
	go func() {
		defer preloading.Done()
		compiledPlugin(context.Background())
	}()
}

// preloading counts the goroutines Preload started that may still be
// compiling.
var preloading sync.WaitGroup

// compilePlugin compiles the embedded plugin with its compiled code cached
// in dir, or with no cache when dir is "". It also returns the cache it used
// (nil for none), which outlives the compiled plugin and is closed
// separately.
func compilePlugin(ctx context.Context, dir string) (*kernel.Module, wazero.CompilationCache, error) {
	return compileCached(ctx, dir, plugin.Wasm)
}

// compileCached compiles wasm as the plugin, through a cache in dir.
//
// A cache that cannot be used never stops the plugin from loading: a
// directory that cannot be created or written to is skipped, and a damaged
// entry (wazero
// checks each one against a checksum and then fails the compilation) is
// removed and compiled again; if that fails too, the plugin is compiled
// without a cache.
func compileCached(ctx context.Context, dir string, wasm []byte) (*kernel.Module, wazero.CompilationCache, error) {
	if dir != "" && writableDir(dir) {
		for attempt := 0; attempt < 2; attempt++ {
			cache, err := wazero.NewCompilationCacheWithDir(dir)
			if err != nil {
				break
			}
			c, err := compileWith(ctx, cache, wasm)
			if err == nil {
				return c, cache, nil
			}
			cache.Close(ctx)
			if attempt > 0 || clearCompilationCache(dir) == 0 {
				break
			}
		}
	}
	c, err := compileWith(ctx, nil, wasm)
	return c, nil, err
}

// writableDir creates dir (0700) if needed and reports whether files can
// be created in it: wazero fails a compilation whose result it cannot
// write to the cache.
func writableDir(dir string) bool {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false
	}
	f, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return false
	}
	f.Close()
	os.Remove(f.Name())
	return true
}

// compileWith compiles wasm as the plugin, through cache when it is not
// nil.
func compileWith(ctx context.Context, cache wazero.CompilationCache, wasm []byte) (*kernel.Module, error) {
	// No per-loop cancellation check: with it, wazero tests the context at
	// the top of every loop, and Go's wasm output has one at the top of
	// every function (a call ran 2-3x slower). Calls are cancelled at
	// host-function boundaries instead (see Host.Call); the kernel never
	// asks wazero for the check.
	return kernel.Compile(ctx, wasm, kernel.Config{
		Cache:          cache,
		MaxMemoryPages: MaxMemoryPages,
		Funcs:          hostFunctions(),
	})
}

// clearCompilationCache removes the entries of a compilation cache that
// failed to load, and returns how many it removed. wazero keeps them in one
// subdirectory per wazero version and platform (wazero-VERSION-ARCH-OS).
// Another process's temporary files are left alone; a process still
// reading an entry keeps its open file, and one that looks an entry up
// afterwards compiles the plugin and writes the entry again.
func clearCompilationCache(dir string) int {
	removed := 0
	subdirs, _ := filepath.Glob(filepath.Join(dir, "wazero-*"))
	for _, sub := range subdirs {
		entries, _ := os.ReadDir(sub)
		for _, e := range entries {
			if e.Type().IsRegular() && !strings.HasSuffix(e.Name(), ".tmp") {
				if os.Remove(filepath.Join(sub, e.Name())) == nil {
					removed++
				}
			}
		}
	}
	return removed
}

// CacheDir is where compiled plugin code is kept between processes:
// $DEVICEFLOW_CACHE_DIR when set ("off" disables the cache), otherwise
// deviceflow/wazero under the user's cache directory (os.UserCacheDir).
//
// Several processes may share the directory. wazero keeps one file per
// compiled module, named by a hash of the module, the wazero version and the
// platform, inside a subdirectory per wazero version; it writes each file to
// a temporary file in the same directory, syncs it and renames it into place,
// so a reader sees a whole entry or none, and two processes compiling at once
// both write the same content. Each entry carries a checksum that is checked
// when it is loaded; a damaged entry is removed and compiled again (see
// compilePlugin).
func CacheDir() string {
	if d, ok := os.LookupEnv("DEVICEFLOW_CACHE_DIR"); ok {
		if d == "off" {
			return ""
		}
		return d
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(base, "deviceflow", "wazero")
}

// moduleConfig gives the plugin the system's clocks and random source
// instead of wazero's deterministic defaults. (The plugin takes its time from
// the now host function anyway.)
func moduleConfig() wazero.ModuleConfig {
	return wazero.NewModuleConfig().
		WithSysWalltime().
		WithSysNanotime().
		WithSysNanosleep().
		WithRandSource(rand.Reader)
}

// instance is one plugin instance with its Extism memory; an instance is
// not safe for concurrent use, so each call takes one from the pool.
type instance = kernel.Instance

// pool keeps idle instances for reuse. It keeps as many as the most calls
// that have run at once (at least minIdle), so a process serving many
// concurrent flows does not instantiate the plugin on every call.
type pool struct {
	mu   sync.Mutex
	idle []*instance
	busy int // instances handed out and not yet returned or dropped
	peak int // the most instances out at once
}

// minIdle is how many idle instances the pool keeps at least.
const minIdle = 4

func (p *pool) get(ctx context.Context) (*instance, error) {
	p.mu.Lock()
	p.busy++
	p.peak = max(p.peak, p.busy)
	if n := len(p.idle); n > 0 {
		in := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return in, nil
	}
	p.mu.Unlock()
	in, err := p.create(ctx)
	if err != nil {
		p.drop()
	}
	return in, err
}

// drop records that an instance handed out was closed instead of returned.
func (p *pool) drop() {
	p.mu.Lock()
	p.busy--
	p.mu.Unlock()
}

// create instantiates the compiled plugin, checking its ABI once.
func (p *pool) create(ctx context.Context) (*instance, error) {
	c, err := compiledPlugin(ctx)
	if err != nil {
		return nil, err
	}
	in, err := c.Instance(context.WithoutCancel(ctx), moduleConfig())
	if err != nil {
		return nil, err
	}
	abiOnce.Do(func() { abiErr = checkABI(in, flow.ABIVersion) })
	if abiErr != nil {
		in.Close(context.Background())
		return nil, abiErr
	}
	return in, nil
}

var (
	abiOnce sync.Once
	abiErr  error
)

// checkABI asks a plugin instance for its contract version (the info
// export) and refuses a plugin whose major version differs from want's: its
// imports, exports or payloads would not be the ones this host speaks.
func checkABI(in *instance, want string) error {
	_, out, err := in.Call(context.Background(), "info", []byte("{}"))
	if err != nil {
		return fmt.Errorf("the plugin's info export failed: %w", err)
	}
	var info struct {
		ABI string `json:"abi"`
	}
	if err := json.Unmarshal(out, &info); err != nil || info.ABI == "" {
		return errors.New("the plugin's info export did not name its ABI: it is not a deviceflow plugin")
	}
	if major(info.ABI) != major(want) {
		return fmt.Errorf("the plugin speaks contract %s, this host speaks %s: rebuild the plugin with `make wasm` from the same source as the host", info.ABI, want)
	}
	return nil
}

// major is the major part of a semantic version: "2" of "2.0.0".
func major(v string) string {
	if i := strings.IndexByte(v, '.'); i >= 0 {
		return v[:i]
	}
	return v
}

func (p *pool) put(in *instance) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.busy--
	if len(p.idle) < max(minIdle, p.peak) {
		p.idle = append(p.idle, in)
		return
	}
	in.Close(context.Background())
}

func (p *pool) close(ctx context.Context) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, in := range p.idle {
		in.Close(ctx)
	}
	p.idle = nil
}
