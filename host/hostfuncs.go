package host

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	extism "github.com/extism/go-sdk"
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
	ptr = []extism.ValueType{extism.ValueTypePTR}
	i32 = []extism.ValueType{extism.ValueTypeI32}
	i64 = []extism.ValueType{extism.ValueTypeI64}
)

// hostFunctions are the plugin's imports (wit: interface host), each a thin
// adaptor over the Host's capabilities.
func hostFunctions() []extism.HostFunction {
	return []extism.HostFunction{
		extism.NewHostFunctionWithStack("http_request", func(ctx context.Context, p *extism.CurrentPlugin, stack []uint64) {
			var req httpRequest
			var resp *httpResponse
			if err := readJSON(p, stack[0], &req); err != nil {
				resp = &httpResponse{Error: &wireError{Kind: "denied", Message: "malformed request from the plugin"}}
			} else {
				resp = callHost(ctx).doHTTP(ctx, &req)
			}
			stack[0] = writeJSON(p, resp)
		}, ptr, ptr),
		extism.NewHostFunctionWithStack("sleep", func(ctx context.Context, _ *extism.CurrentPlugin, stack []uint64) {
			cancelled := callHost(ctx).sleep(ctx, int64(stack[0]))
			stack[0] = extism.EncodeI32(boolI32(cancelled))
		}, i64, i32),
		extism.NewHostFunctionWithStack("now", func(ctx context.Context, _ *extism.CurrentPlugin, stack []uint64) {
			stack[0] = extism.EncodeI64(callHost(ctx).now())
		}, nil, i64),
		extism.NewHostFunctionWithStack("monotonic", func(ctx context.Context, _ *extism.CurrentPlugin, stack []uint64) {
			stack[0] = extism.EncodeI64(callHost(ctx).monotonic())
		}, nil, i64),
		extism.NewHostFunctionWithStack("store_get", func(ctx context.Context, p *extism.CurrentPlugin, stack []uint64) {
			key, err := p.ReadString(stack[0])
			ans := storeAnswer{}
			if err != nil {
				ans.Error = storeFailed(ctx, err)
			} else if v, err := callHost(ctx).store.Get(ctx, key); err == nil {
				ans.Value = &v
			} else if !errors.Is(err, ErrNoEntry) {
				ans.Error = storeFailed(ctx, err)
			}
			stack[0] = writeJSON(p, ans)
		}, ptr, ptr),
		extism.NewHostFunctionWithStack("store_swap", func(ctx context.Context, p *extism.CurrentPlugin, stack []uint64) {
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
		}, ptr, ptr),
		extism.NewHostFunctionWithStack("store_lock", func(ctx context.Context, p *extism.CurrentPlugin, stack []uint64) {
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
		}, ptr, ptr),
		extism.NewHostFunctionWithStack("store_unlock", func(ctx context.Context, p *extism.CurrentPlugin, stack []uint64) {
			var u storeUnlock
			if err := readJSON(p, stack[0], &u); err == nil {
				callOf(ctx).releaseLease(u.Lease)
			}
			stack[0] = writeJSON(p, storeAnswer{})
		}, ptr, ptr),
		extism.NewHostFunctionWithStack("emit", func(ctx context.Context, p *extism.CurrentPlugin, stack []uint64) {
			raw, err := p.ReadBytes(stack[0])
			cancelled := err != nil || callHost(ctx).emit(ctx, raw)
			stack[0] = extism.EncodeI32(boolI32(cancelled))
		}, ptr, i32),
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

func readJSON(p *extism.CurrentPlugin, off uint64, v any) error {
	b, err := p.ReadBytes(off)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// writeJSON hands a value to the plugin; a failed allocation answers 0,
// which the plugin reads as a failed call.
func writeJSON(p *extism.CurrentPlugin, v any) uint64 {
	b, _ := json.Marshal(v)
	off, err := p.WriteBytes(b)
	if err != nil {
		return 0
	}
	return off
}
