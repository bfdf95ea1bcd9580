//go:build wasip1

package main

// Every host function the plugin imports, in one place. They live in the
// Extism namespace extism:host/user and are described in
// wit/deviceflow.wit. Pointers are Extism memory offsets; records travel as
// JSON.

//go:wasmimport extism:host/user http_request
func hostHTTPRequest(request uint64) uint64

//go:wasmimport extism:host/user sleep
func hostSleep(ms int64) int32

//go:wasmimport extism:host/user now
func hostNow() int64

//go:wasmimport extism:host/user monotonic
func hostMonotonic() int64

//go:wasmimport extism:host/user store_get
func hostStoreGet(key uint64) uint64

//go:wasmimport extism:host/user store_swap
func hostStoreSwap(swap uint64) uint64

//go:wasmimport extism:host/user store_lock
func hostStoreLock(lock uint64) uint64

//go:wasmimport extism:host/user store_unlock
func hostStoreUnlock(lease uint64) uint64

//go:wasmimport extism:host/user emit
func hostEmit(event uint64) int32
