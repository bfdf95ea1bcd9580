package host

import (
	"context"
	"encoding/json"
	"errors"

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
		extism.NewHostFunctionWithStack("store_set", func(ctx context.Context, p *extism.CurrentPlugin, stack []uint64) {
			var e storeEntry
			ans := storeAnswer{}
			if err := readJSON(p, stack[0], &e); err != nil {
				ans.Error = storeFailed(ctx, err)
			} else if err := callHost(ctx).store.Set(ctx, e.Key, e.Value); err != nil {
				ans.Error = storeFailed(ctx, err)
			}
			stack[0] = writeJSON(p, ans)
		}, ptr, ptr),
		extism.NewHostFunctionWithStack("store_delete", func(ctx context.Context, p *extism.CurrentPlugin, stack []uint64) {
			key, err := p.ReadString(stack[0])
			ans := storeAnswer{}
			if err == nil {
				err = callHost(ctx).store.Delete(ctx, key)
			}
			if err != nil {
				ans.Error = storeFailed(ctx, err)
			}
			stack[0] = writeJSON(p, ans)
		}, ptr, ptr),
		extism.NewHostFunctionWithStack("emit", func(ctx context.Context, p *extism.CurrentPlugin, stack []uint64) {
			raw, err := p.ReadBytes(stack[0])
			cancelled := err != nil || callHost(ctx).emit(ctx, raw)
			stack[0] = extism.EncodeI32(boolI32(cancelled))
		}, ptr, i32),
	}
}

func storeFailure(err error) *wireError { return &wireError{Kind: "store", Message: err.Error()} }

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
