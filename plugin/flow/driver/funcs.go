package driver

import (
	"github.com/deviceflow/deviceflow/plugin/flow"
)

// Funcs is the host as the plugin's builds import it: the host functions of
// wit/deviceflow.wit, each taking and answering the contract's JSON records
// as bytes. The wasip1 guest implements it over Extism memory, the browser
// guest (GOOS=js) over JavaScript functions; FuncHost turns either into a
// Host, so the records are written and read in one place.
type Funcs interface {
	// HTTPRequest takes an http-request record and answers an
	// http-response record.
	HTTPRequest(req []byte) []byte
	// Sleep answers true when the sleep was cancelled.
	Sleep(ms int64) bool
	Now() int64
	Monotonic() int64
	// StoreGet takes the key and answers a store-answer record.
	StoreGet(key []byte) []byte
	// StoreSwap, StoreLock and StoreUnlock take their JSON record and answer
	// a store-answer record.
	StoreSwap(swap []byte) []byte
	StoreLock(lock []byte) []byte
	StoreUnlock(lease []byte) []byte
	// Emit takes an event record and answers true when the application
	// asked to cancel.
	Emit(event []byte) bool
}

// FuncHost performs the engine's effects through host functions.
type FuncHost struct{ F Funcs }

var _ Host = FuncHost{}

// HTTP sends the request record and reads the answer; an answer that is not
// an http-response is a network error.
func (h FuncHost) HTTP(req *flow.Request) *flow.Response {
	rec := flow.AppendRequest(make([]byte, 0, 256+len(req.URL)+len(req.Body)*5/4), req)
	resp, ok := flow.ParseResponse(h.F.HTTPRequest(rec))
	if !ok {
		return &flow.Response{Error: &flow.HTTPError{Kind: "network", Message: "the host answered the request with malformed JSON"}}
	}
	return resp
}

// Sleep waits through the host.
func (h FuncHost) Sleep(ms int64) bool { return h.F.Sleep(ms) }

// Now is the host's wall clock.
func (h FuncHost) Now() int64 { return h.F.Now() }

// Monotonic is the host's monotonic clock.
func (h FuncHost) Monotonic() int64 { return h.F.Monotonic() }

// Emit hands the event to the host.
func (h FuncHost) Emit(event []byte) bool { return h.F.Emit(event) }

func storeCall(fn func([]byte) []byte, in []byte) (flow.StoreAnswer, string) {
	raw := fn(in)
	if len(raw) == 0 {
		return flow.StoreAnswer{}, "the host answered a store call with nothing"
	}
	a, ok := flow.ParseStoreAnswer(raw)
	if !ok {
		return a, "the host answered a store call with malformed JSON"
	}
	if a.Error != nil {
		if *a.Error == "" {
			return a, "unknown store failure"
		}
		return a, *a.Error
	}
	return a, ""
}

// StoreGet reads a key through the host.
func (h FuncHost) StoreGet(key string) (string, bool, string) {
	a, failure := storeCall(h.F.StoreGet, []byte(key))
	if failure != "" || a.Value == nil {
		return "", false, failure
	}
	return *a.Value, true, ""
}

// StoreSwap asks the host for a compare-and-swap.
func (h FuncHost) StoreSwap(key string, old, new *string) (bool, *string, string) {
	a, failure := storeCall(h.F.StoreSwap, flow.AppendStoreSwap(nil, key, old, new))
	if failure != "" {
		return false, nil, failure
	}
	return a.Conflict, a.Value, ""
}

// StoreLock asks the host for a lease.
func (h FuncHost) StoreLock(key string, waitMs, ttlMs int64) (string, bool, bool, string) {
	a, failure := storeCall(h.F.StoreLock, flow.AppendStoreLock(nil, key, waitMs, ttlMs))
	if failure != "" {
		return "", false, false, failure
	}
	if a.Lease == "" && !a.Busy && !a.Cancelled {
		return "", false, false, "the host answered store_lock with neither a lease, busy nor cancelled"
	}
	return a.Lease, a.Busy, a.Cancelled, ""
}

// StoreUnlock releases a lease through the host.
func (h FuncHost) StoreUnlock(key, lease string) {
	storeCall(h.F.StoreUnlock, flow.AppendStoreUnlock(nil, key, lease))
}
