//go:build js && wasm

package main

import (
	"syscall/js"
)

// jsFuncs calls the host functions of one call, JavaScript functions that
// answer a value or a promise of one. While a promise is pending only this
// call's goroutine waits; the page's event loop and other calls run on.
// driver.FuncHost writes and reads the records, as for the wasip1 guest.
type jsFuncs struct{ f js.Value }

// await calls the host function name and waits for its answer. A host
// function that is missing, throws or rejects answers undefined, which
// driver.FuncHost takes as a malformed answer (network or store failure).
func (j jsFuncs) await(name string, args ...any) (answer js.Value) {
	answer = js.Undefined()
	fn := j.f.Get(name)
	if fn.Type() != js.TypeFunction {
		return answer
	}
	defer func() {
		if recover() != nil {
			answer = js.Undefined()
		}
	}()
	v := fn.Call("call", append([]any{j.f}, args...)...)
	if v.Type() != js.TypeObject || v.Get("then").Type() != js.TypeFunction {
		return v
	}
	done := make(chan js.Value, 1)
	onResolve := js.FuncOf(func(_ js.Value, a []js.Value) any {
		if len(a) > 0 {
			done <- a[0]
		} else {
			done <- js.Undefined()
		}
		return nil
	})
	onReject := js.FuncOf(func(_ js.Value, _ []js.Value) any {
		done <- js.Undefined()
		return nil
	})
	defer onResolve.Release()
	defer onReject.Release()
	v.Call("then", onResolve, onReject)
	return <-done
}

func (j jsFuncs) text(name string, in []byte) []byte {
	v := j.await(name, string(in))
	if v.Type() != js.TypeString {
		return nil
	}
	return []byte(v.String())
}

// flag reads a 0/1 answer; anything else counts as cancelled.
func (j jsFuncs) flag(name string, args ...any) bool {
	v := j.await(name, args...)
	return v.Type() != js.TypeNumber || v.Int() != 0
}

func (j jsFuncs) clock(name string) int64 {
	v := j.await(name)
	if v.Type() != js.TypeNumber {
		return 0
	}
	return int64(v.Float())
}

func (j jsFuncs) HTTPRequest(req []byte) []byte { return j.text("http_request", req) }

func (j jsFuncs) Sleep(ms int64) bool { return j.flag("sleep", float64(ms)) }

func (j jsFuncs) Now() int64 { return j.clock("now") }

func (j jsFuncs) Monotonic() int64 { return j.clock("monotonic") }

func (j jsFuncs) StoreGet(key []byte) []byte { return j.text("store_get", key) }

func (j jsFuncs) StoreSwap(swap []byte) []byte { return j.text("store_swap", swap) }

func (j jsFuncs) StoreLock(lock []byte) []byte { return j.text("store_lock", lock) }

func (j jsFuncs) StoreUnlock(lease []byte) []byte { return j.text("store_unlock", lease) }

func (j jsFuncs) Emit(event []byte) bool { return j.flag("emit", string(event)) }
