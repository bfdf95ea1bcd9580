//go:build wasip1

package main

import (
	"encoding/json"

	"github.com/deviceflow/deviceflow/plugin/flow"
	"github.com/extism/go-pdk"
)

// wasmHost performs the engine's effects through the host functions.
type wasmHost struct{}

// call passes bytes to a host function and reads its answer, freeing both
// blocks.
func call(fn func(uint64) uint64, in []byte) []byte {
	mem := pdk.AllocateBytes(in)
	defer mem.Free()
	off := fn(mem.Offset())
	if off == 0 {
		return nil
	}
	out := pdk.FindMemory(off)
	defer out.Free()
	return out.ReadBytes()
}

func (wasmHost) HTTP(req *flow.Request) *flow.Response {
	in, _ := json.Marshal(req)
	raw := call(hostHTTPRequest, in)
	var resp flow.Response
	if err := json.Unmarshal(raw, &resp); err != nil || (resp.Status == 0 && resp.Error == nil) {
		return &flow.Response{Error: &flow.HTTPError{Kind: "network", Message: "the host answered the request with malformed JSON"}}
	}
	return &resp
}

func (wasmHost) Sleep(ms int64) bool { return hostSleep(ms) != 0 }

func (wasmHost) Now() int64 { return hostNow() }

func (wasmHost) Emit(event []byte) bool {
	mem := pdk.AllocateBytes(event)
	defer mem.Free()
	return hostEmit(mem.Offset()) != 0
}

// storeAnswer is the host's answer to a store call.
type storeAnswer struct {
	Value *string `json:"value"`
	Error *struct {
		Message string `json:"message"`
	} `json:"error"`
}

func storeCall(fn func(uint64) uint64, in []byte) (storeAnswer, string) {
	var a storeAnswer
	raw := call(fn, in)
	if len(raw) == 0 {
		return a, ""
	}
	if err := json.Unmarshal(raw, &a); err != nil {
		return a, "the host answered a store call with malformed JSON"
	}
	if a.Error != nil {
		if a.Error.Message == "" {
			return a, "unknown store failure"
		}
		return a, a.Error.Message
	}
	return a, ""
}

func (wasmHost) StoreGet(key string) (string, bool, string) {
	a, failure := storeCall(hostStoreGet, []byte(key))
	if failure != "" || a.Value == nil {
		return "", false, failure
	}
	return *a.Value, true, ""
}

func (wasmHost) StoreSet(key, value string) string {
	in, _ := json.Marshal(map[string]string{"key": key, "value": value})
	_, failure := storeCall(hostStoreSet, in)
	return failure
}

func (wasmHost) StoreDelete(key string) string {
	_, failure := storeCall(hostStoreDelete, []byte(key))
	return failure
}
