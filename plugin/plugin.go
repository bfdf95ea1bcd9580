// Package plugin embeds the deviceflow WebAssembly plugin, so Go hosts need
// no file at run time.
//
// deviceflow.wasm is built from ./guest by `make wasm` with standard Go
// (GOOS=wasip1 GOARCH=wasm, -buildmode=c-shared -trimpath -ldflags='-s -w'),
// its data segments then merged by ./internal/packdata; the same toolchain
// and flags give the same bytes, which `make verify-wasm` checks.
package plugin

import (
	_ "embed"

	"github.com/deviceflow/deviceflow/plugin/flow"
)

// Wasm is the compiled plugin.
//
//go:embed deviceflow.wasm
var Wasm []byte

// ABIVersion is the version of the contract in wit/deviceflow.wit that the
// embedded plugin implements. It is the engine's constant: one place.
const ABIVersion = flow.ABIVersion
