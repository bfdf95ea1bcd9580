package tools

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"go.bytecodealliance.org/wit"
)

// kernelFunctions are the Extism kernel imports (namespace extism:host/env)
// that every supported host provides, @extism/extism 1.0.3 included. It lacks
// http_headers and get_log_level, which go-pdk's HTTP and log helpers import:
// the plugin must not use them.
var kernelFunctions = map[string]bool{
	"alloc": true, "free": true, "length": true, "length_unsafe": true,
	"load_u8": true, "load_u64": true, "store_u8": true, "store_u64": true,
	"input_length": true, "input_load_u8": true, "input_load_u64": true,
	"input_offset": true, "output_set": true, "output_length": true,
	"output_offset": true, "error_set": true, "error_get": true,
	"config_get": true, "var_get": true, "var_set": true, "reset": true,
	"memory_bytes": true,
}

// kebabToSnake maps a WIT name to the wasm symbol: http-request → http_request.
func kebabToSnake(s string) string { return strings.ReplaceAll(s, "-", "_") }

// TestPluginMatchesWIT checks that the wasm's real imports and exports are
// exactly the ones wit/deviceflow.wit declares.
func TestPluginMatchesWIT(t *testing.T) {
	path, err := filepath.Abs("../deviceflow.wit")
	if err != nil {
		t.Fatal(err)
	}
	res, err := wit.LoadWIT(path)
	if err != nil {
		t.Fatalf("wit/deviceflow.wit does not parse: %v", err)
	}
	var world *wit.World
	for _, w := range res.Worlds {
		if w.Name == "deviceflow" {
			world = w
		}
	}
	if world == nil {
		t.Fatal("wit: no world named deviceflow")
	}
	var witImports, witExports []string
	world.Imports.All()(func(_ string, item wit.WorldItem) bool {
		if ref, ok := item.(*wit.InterfaceRef); ok {
			ref.Interface.Functions.All()(func(name string, _ *wit.Function) bool {
				witImports = append(witImports, kebabToSnake(name))
				return true
			})
		}
		return true
	})
	world.Exports.All()(func(name string, item wit.WorldItem) bool {
		if _, ok := item.(*wit.Function); ok {
			witExports = append(witExports, kebabToSnake(name))
		}
		return true
	})

	if len(witImports) != 9 || len(witExports) != 8 {
		t.Fatalf("WIT world declares %d host functions and %d exports, want 9 and 8: %v %v", len(witImports), len(witExports), witImports, witExports)
	}

	bin, err := os.ReadFile("../../plugin/deviceflow.wasm")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	mod, err := rt.CompileModule(ctx, bin)
	if err != nil {
		t.Fatal(err)
	}
	var userImports []string
	for _, f := range mod.ImportedFunctions() {
		ns, name, _ := f.Import()
		switch ns {
		case "extism:host/user":
			userImports = append(userImports, name)
		case "extism:host/env":
			if !kernelFunctions[name] {
				t.Errorf("the plugin imports kernel function %s, which @extism/extism 1.0.3 lacks", name)
			}
		case "wasi_snapshot_preview1":
		default:
			t.Errorf("unexpected import %s.%s", ns, name)
		}
	}
	var exports []string
	for name := range mod.ExportedFunctions() {
		if name != "_initialize" {
			exports = append(exports, name)
		}
	}
	same(t, "imports from extism:host/user", userImports, witImports)
	same(t, "exports", exports, witExports)
}

func same(t *testing.T, what string, got, want []string) {
	t.Helper()
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("%s: wasm has %v, WIT declares %v", what, got, want)
	}
}
