//go:build wasip1

// Command guest is the deviceflow plugin: the flow engine exported through
// the Extism ABI. It is thin glue: each export reads Extism input, runs the
// engine with the host functions as its effects, and sets Extism output or
// error. Build it with `make wasm`.
package main

import (
	"runtime"

	"github.com/deviceflow/deviceflow/plugin/flow"
	"github.com/deviceflow/deviceflow/plugin/flow/driver"
)

func main() {}

// run drives one export and reports 0 for success, 1 for failure, with the
// error as the contract's JSON.
func run(op flow.Op) int32 {
	defer collect()
	out, err := driver.Run(op, input(), driver.FuncHost{F: extismFuncs{}})
	if err != nil {
		setError(err.JSON())
		return 1
	}
	output(out)
	return 0
}

// collectEvery is how many calls run between two garbage collections the
// plugin starts itself.
const collectEvery = 512

// calls counts the calls since the last collection.
var calls int

// collect runs a whole garbage collection after every collectEvery calls.
//
// The Go runtime in a wasm guest has one thread, so a collection it starts
// on its own (when the heap reaches twice what was live, and at least 4
// MiB) is marked only by the allocations of the calls that follow: it
// spans many calls, each slowed by the write barrier and by the marking it
// is made to assist. Collecting whole between calls, before the heap
// reaches that size (a poll allocates about 6 KB), keeps the calls from
// ever running with a collection under way; a call that allocates more
// than usual still triggers one as before.
func collect() {
	calls++
	if calls >= collectEvery {
		calls = 0
		runtime.GC()
	}
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
