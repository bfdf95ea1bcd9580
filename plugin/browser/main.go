//go:build js && wasm

// Command browser is the deviceflow engine for browsers (GOOS=js): the same
// flow engine and driver as the wasip1 plugin, with the host functions of
// wit/deviceflow.wit supplied as JavaScript functions. It holds no protocol
// decision of its own. Build it with `make wasm`; sdk/js's browser entry
// loads the committed blob with Go's wasm_exec.js.
//
// At start it hands its exports to the function the loader put at
// globalThis[registerName] and then stays alive for the page's life:
//
//	info(input string) string
//	call(export, input string, funcs object) Promise<{output} | {error}>
//
// funcs holds the host functions: http_request, store_get, store_swap,
// store_lock and store_unlock take the contract's JSON record and answer one
// (or a promise of one); sleep(ms) and emit(event) answer 0 to go on and 1
// for cancelled; now() and monotonic() answer milliseconds. Any number of
// calls may run at once, each on its own goroutine.
package main

import (
	"syscall/js"

	"github.com/deviceflow/deviceflow/plugin/flow"
	"github.com/deviceflow/deviceflow/plugin/flow/driver"
)

// registerName is where the loader waits for the exports.
const registerName = "__deviceflowBrowserRegister"

var ops = map[string]flow.Op{
	"authenticate": flow.OpAuthenticate,
	"begin":        flow.OpBegin,
	"poll":         flow.OpPoll,
	"refresh":      flow.OpRefresh,
	"check":        flow.OpCheck,
	"logout":       flow.OpLogout,
	"authorize":    flow.OpAuthorize,
}

func main() {
	exports := js.Global().Get("Object").New()
	exports.Set("abi", flow.ABIVersion)
	exports.Set("info", js.FuncOf(func(_ js.Value, args []js.Value) any {
		return string(flow.Info([]byte(stringArg(args, 0))))
	}))
	exports.Set("call", js.FuncOf(call))
	register := js.Global().Get(registerName)
	if register.Type() != js.TypeFunction {
		println("deviceflow: load this module through sdk/js's browser entry (no " + registerName + " to register with)")
		return
	}
	register.Invoke(exports)
	select {}
}

// call starts one export on its own goroutine and answers a promise of its
// result: {output: string} or {error: string} (the contract's error JSON).
func call(_ js.Value, args []js.Value) any {
	name, input := stringArg(args, 0), stringArg(args, 1)
	var funcs js.Value
	if len(args) > 2 {
		funcs = args[2]
	}
	var executor js.Func
	executor = js.FuncOf(func(_ js.Value, pargs []js.Value) any {
		resolve := pargs[0]
		executor.Release()
		go func() {
			answer := js.Global().Get("Object").New()
			op, ok := ops[name]
			switch {
			case !ok:
				answer.Set("error", string((&flow.Error{Code: flow.CodeInvalidInput, Message: "invalid input: export: unknown export"}).JSON()))
			case funcs.Type() != js.TypeObject:
				answer.Set("error", string((&flow.Error{Code: flow.CodeInvalidInput, Message: "invalid input: no host functions given"}).JSON()))
			default:
				out, err := driver.Run(op, []byte(input), driver.FuncHost{F: jsFuncs{funcs}})
				if err != nil {
					answer.Set("error", string(err.JSON()))
				} else {
					answer.Set("output", string(out))
				}
			}
			resolve.Invoke(answer)
		}()
		return nil
	})
	return js.Global().Get("Promise").New(executor)
}

func stringArg(args []js.Value, i int) string {
	if i < len(args) && args[i].Type() == js.TypeString {
		return args[i].String()
	}
	return ""
}
