//go:build wasip1

// Command guest is the deviceflow plugin: the flow engine exported through
// the Extism ABI. It is thin glue: each export reads Extism input, runs the
// engine with the host functions as its effects, and sets Extism output or
// error. Build it with `make wasm`.
package main

import (
	"github.com/deviceflow/deviceflow/plugin/flow"
	"github.com/deviceflow/deviceflow/plugin/flow/driver"
)

func main() {}

// run drives one export and reports 0 for success, 1 for failure, with the
// error as the contract's JSON.
func run(op flow.Op) int32 {
	out, err := driver.Run(op, input(), driver.FuncHost{F: extismFuncs{}})
	if err != nil {
		setError(err.JSON())
		return 1
	}
	output(out)
	return 0
}

//go:wasmexport authenticate
func authenticate() int32 { return run(flow.OpAuthenticate) }

//go:wasmexport begin
func begin() int32 { return run(flow.OpBegin) }

//go:wasmexport poll
func poll() int32 { return run(flow.OpPoll) }

//go:wasmexport refresh
func refresh() int32 { return run(flow.OpRefresh) }

//go:wasmexport check
func check() int32 { return run(flow.OpCheck) }

//go:wasmexport logout
func logout() int32 { return run(flow.OpLogout) }

//go:wasmexport authorize
func authorize() int32 { return run(flow.OpAuthorize) }

//go:wasmexport info
func info() int32 {
	output(flow.Info(input()))
	return 0
}
