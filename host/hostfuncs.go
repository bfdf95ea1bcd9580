package host

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/tetratelabs/wazero/api"

	"github.com/deviceflow/deviceflow/host/internal/kernel"
	"github.com/deviceflow/deviceflow/plugin/flow"
)

// callKey carries the running call's state into the host functions, which
// are registered once per process and shared by every instance.
type callKey struct{}

// callState is one call's Host and what the host functions learnt during
// it. An instance runs one call at a time, so its host functions never run
// concurrently.
type callState struct {
	h *Host
	// storeErr is the first store failure, kept as the Cause of the
	// plugin's "store" error so that callers can test it with errors.Is.
	storeErr error
	// eventErr is the error OnEvent returned to stop the call, kept as the
	// Cause of the plugin's "cancelled" error.
	eventErr error
	// leases are the leases the call holds, by id: whatever the plugin has
	// not released is released when the call ends, however it ends.
	leases    map[string]func()
	nextLease int
}

// takeLease remembers a lease and answers its id.
func (c *callState) takeLease(unlock func()) string {
	if c.leases == nil {
		c.leases = map[string]func(){}
	}
	c.nextLease++
	id := "L" + strconv.Itoa(c.nextLease)
	c.leases[id] = unlock
	return id
}

// releaseLease releases one lease; an unknown id is already released.
func (c *callState) releaseLease(id string) {
	if unlock, ok := c.leases[id]; ok {
		delete(c.leases, id)
		unlock()
	}
}

// releaseAll releases every lease the call still holds.
func (c *callState) releaseAll() {
	for id := range c.leases {
		c.releaseLease(id)
	}
}

func callOf(ctx context.Context) *callState {
	c, _ := ctx.Value(callKey{}).(*callState)
	return c
}

func callHost(ctx context.Context) *Host { return callOf(ctx).h }

// storeFailed records a store failure and describes it to the plugin.
func storeFailed(ctx context.Context, err error) *wireError {
	if c := callOf(ctx); c.storeErr == nil {
		c.storeErr = err
	}
	return storeFailure(err)
}

var (
	ptr = []api.ValueType{api.ValueTypeI64} // an Extism memory offset
	i32 = []api.ValueType{api.ValueTypeI32}
	i64 = []api.ValueType{api.ValueTypeI64}
)

// hostFunctions are the plugin's imports (wit: interface host), each a thin
// adaptor over the Host's capabilities: payloads are read from and answered
// in the instance's Extism memory.
func hostFunctions() []kernel.Func {
	return []kernel.Func{
		{Name: "http_request", Params: ptr, Results: ptr, Fn: func(ctx context.Context, p *kernel.Instance, stack []uint64) {
			// The records are read and written by the engine's own JSON
			// code (held to encoding/json's by its fuzzers), as the plugin
			// does: a poll's exchange without reflection.
			var resp *httpResponse
			if req, ok := flow.ParseRequest(p.Bytes(stack[0])); !ok {
				resp = &httpResponse{Error: &wireError{Kind: "denied", Message: "malformed request from the plugin"}}
			} else {
				resp = callHost(ctx).doHTTP(ctx, req)
			}
			stack[0] = p.Write(flow.AppendResponse(make([]byte, 0, 256+len(resp.Body)*5/4), resp))
		}},
		{Name: "sleep", Params: i64, Results: i32, Fn: func(ctx context.Context, _ *kernel.Instance, stack []uint64) {
			cancelled := callHost(ctx).sleep(ctx, int64(stack[0]))
			stack[0] = api.EncodeI32(boolI32(cancelled))
		}},
		{Name: "now", Results: i64, Fn: func(ctx context.Context, _ *kernel.Instance, stack []uint64) {
			stack[0] = api.EncodeI64(callHost(ctx).now())
		}},
		{Name: "monotonic", Results: i64, Fn: func(ctx context.Context, _ *kernel.Instance, stack []uint64) {
			stack[0] = api.EncodeI64(callHost(ctx).monotonic())
		}},
		{Name: "store_get", Params: ptr, Results: ptr, Fn: func(ctx context.Context, p *kernel.Instance, stack []uint64) {
			key := string(p.Bytes(stack[0]))
			ans := storeAnswer{}
			if v, err := callHost(ctx).store.Get(ctx, key); err == nil {
				ans.Value = &v
			} else if !errors.Is(err, ErrNoEntry) {
				ans.Error = storeFailed(ctx, err)
			}
			stack[0] = writeJSON(p, ans)
		}},
		{Name: "store_swap", Params: ptr, Results: ptr, Fn: func(ctx context.Context, p *kernel.Instance, stack []uint64) {
			var sw storeSwap
			ans := storeAnswer{}
			if err := readJSON(p, stack[0], &sw); err != nil {
				ans.Error = storeFailed(ctx, err)
			} else if swapped, cur, err := callHost(ctx).swapper.Swap(ctx, sw.Key, sw.Old, sw.New); err != nil {
				ans.Error = storeFailed(ctx, err)
			} else if !swapped {
				ans.Conflict, ans.Value = true, cur
			}
			stack[0] = writeJSON(p, ans)
		}},
		{Name: "store_lock", Params: ptr, Results: ptr, Fn: func(ctx context.Context, p *kernel.Instance, stack []uint64) {
			var l storeLock
			ans := storeAnswer{}
			if err := readJSON(p, stack[0], &l); err != nil {
				ans.Error = storeFailed(ctx, err)
			} else {
				unlock, err := callHost(ctx).locker.Lock(ctx, l.Key, time.Duration(max(l.WaitMs, 0))*time.Millisecond)
				switch {
				case err == nil:
					ans.Lease = callOf(ctx).takeLease(unlock)
				case errors.Is(err, ErrBusy):
					ans.Busy = true
				case ctx.Err() != nil:
					ans.Cancelled = true
				default:
					ans.Error = storeFailed(ctx, err)
				}
			}
			stack[0] = writeJSON(p, ans)
		}},
		{Name: "store_unlock", Params: ptr, Results: ptr, Fn: func(ctx context.Context, p *kernel.Instance, stack []uint64) {
			var u storeUnlock
			if err := readJSON(p, stack[0], &u); err == nil {
				callOf(ctx).releaseLease(u.Lease)
			}
			stack[0] = writeJSON(p, storeAnswer{})
		}},
		{Name: "emit", Params: ptr, Results: i32, Fn: func(ctx context.Context, p *kernel.Instance, stack []uint64) {
			// OnEvent runs before the plugin allocates again: the view
			// stays valid, and emit copies what it keeps.
			cancelled := callHost(ctx).emit(ctx, p.Bytes(stack[0]))
			stack[0] = api.EncodeI32(boolI32(cancelled))
		}},
	}
}

// storeFailure describes a store's failure to the plugin, which puts it in
// its own sentence ("the token store failed: …"): without the package's
// "deviceflow: " prefix, so that the message never reads it twice.
func storeFailure(err error) *wireError {
	return &wireError{Kind: "store", Message: strings.TrimPrefix(err.Error(), "deviceflow: ")}
}

func boolI32(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

// readJSON decodes the block at off; a missing block is empty, malformed
// JSON.
func readJSON(p *kernel.Instance, off uint64, v any) error {
	return json.Unmarshal(p.Bytes(off), v)
}

// writeJSON hands a value to the plugin; a failed allocation answers 0,
// which the plugin reads as a failed call.
func writeJSON(p *kernel.Instance, v any) uint64 {
	b, _ := json.Marshal(v)
	return p.Write(b)
}
