package host

import (
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"sync"

	extism "github.com/extism/go-sdk"
	"github.com/tetratelabs/wazero"

	"github.com/deviceflow/deviceflow/plugin"
)

// MaxMemoryPages caps the plugin's linear memory: 1024 pages of 64 KiB, 64 MiB.
const MaxMemoryPages = 1024

var (
	compileOnce sync.Once
	compiled    *extism.CompiledPlugin
	compileErr  error
)

// compiledPlugin compiles the embedded plugin once per process, through the
// on-disk compilation cache when one is available.
func compiledPlugin(ctx context.Context) (*extism.CompiledPlugin, error) {
	compileOnce.Do(func() {
		rc := wazero.NewRuntimeConfig().
			WithCloseOnContextDone(true).
			WithMemoryLimitPages(MaxMemoryPages)
		if dir := CacheDir(); dir != "" {
			if cache, err := wazero.NewCompilationCacheWithDir(dir); err == nil {
				rc = rc.WithCompilationCache(cache)
			}
		}
		manifest := extism.Manifest{
			Wasm:   []extism.Wasm{extism.WasmData{Data: plugin.Wasm, Name: "main"}},
			Memory: &extism.ManifestMemory{MaxPages: MaxMemoryPages},
		}
		cfg := extism.PluginConfig{RuntimeConfig: rc, EnableWasi: true}
		compiled, compileErr = extism.NewCompiledPlugin(context.WithoutCancel(ctx), manifest, cfg, hostFunctions())
	})
	return compiled, compileErr
}

// CacheDir is where compiled plugin code is kept between processes:
// $DEVICEFLOW_CACHE_DIR when set ("off" disables the cache), otherwise
// deviceflow/wazero under the user's cache directory. wazero names each
// entry by a hash of the module and the runtime and writes it through a
// temporary file, so processes sharing the directory do not corrupt it.
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

// instance is one plugin instance; Extism instances are not safe for
// concurrent use, so each call takes one from the pool.
type instance = extism.Plugin

// pool keeps idle instances for reuse.
type pool struct {
	mu   sync.Mutex
	idle []*instance
}

func (p *pool) get(ctx context.Context) (*instance, error) {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		in := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return in, nil
	}
	p.mu.Unlock()
	c, err := compiledPlugin(ctx)
	if err != nil {
		return nil, err
	}
	return c.Instance(context.WithoutCancel(ctx), extism.PluginInstanceConfig{ModuleConfig: moduleConfig()})
}

func (p *pool) put(in *instance) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.idle) < 4 {
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
