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

func (wasmHost) Monotonic() int64 { return hostMonotonic() }

func (wasmHost) Emit(event []byte) bool {
	mem := pdk.AllocateBytes(event)
	defer mem.Free()
	return hostEmit(mem.Offset()) != 0
}

// storeAnswer is the host's answer to a store call.
type storeAnswer struct {
	Value     *string `json:"value"`
	Conflict  bool    `json:"conflict"`
	Lease     string  `json:"lease"`
	Busy      bool    `json:"busy"`
	Cancelled bool    `json:"cancelled"`
	Error     *struct {
		Message string `json:"message"`
	} `json:"error"`
}

func storeCall(fn func(uint64) uint64, in []byte) (storeAnswer, string) {
	var a storeAnswer
	raw := call(fn, in)
	if len(raw) == 0 {
		return a, "the host answered a store call with nothing"
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

func (wasmHost) StoreSwap(key string, old, new *string) (bool, *string, string) {
	in, _ := json.Marshal(struct {
		Key string  `json:"key"`
		Old *string `json:"old,omitempty"`
		New *string `json:"new,omitempty"`
	}{key, old, new})
	a, failure := storeCall(hostStoreSwap, in)
	if failure != "" {
		return false, nil, failure
	}
	return a.Conflict, a.Value, ""
}

func (wasmHost) StoreLock(key string, waitMs, ttlMs int64) (string, bool, bool, string) {
	in, _ := json.Marshal(struct {
		Key    string `json:"key"`
		WaitMs int64  `json:"waitMs"`
		TTLMs  int64  `json:"ttlMs"`
	}{key, waitMs, ttlMs})
	a, failure := storeCall(hostStoreLock, in)
	if failure != "" {
		return "", false, false, failure
	}
	if a.Lease == "" && !a.Busy && !a.Cancelled {
		return "", false, false, "the host answered store_lock with neither a lease, busy nor cancelled"
	}
	return a.Lease, a.Busy, a.Cancelled, ""
}

func (wasmHost) StoreUnlock(key, lease string) {
	in, _ := json.Marshal(map[string]string{"key": key, "lease": lease})
	storeCall(hostStoreUnlock, in)
}
