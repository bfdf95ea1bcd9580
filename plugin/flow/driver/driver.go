// Package driver runs the flow engine against a Host: it performs each
// effect the engine asks for and feeds the answer back, until the export
// ends. The wasm guest drives the engine with the host functions; tests and
// the model checker drive it with scripted hosts.
package driver

import (
	"github.com/deviceflow/deviceflow/plugin/flow"
)

// Host performs the engine's effects. Its methods mirror the plugin's host
// functions (wit/deviceflow.wit).
type Host interface {
	// HTTP performs one request. A response that never arrived is a
	// Response with Error set.
	HTTP(req *flow.Request) *flow.Response
	// Sleep waits ms milliseconds and reports whether it was cancelled.
	Sleep(ms int64) (cancelled bool)
	// Now is the host's wall clock in Unix milliseconds.
	Now() int64
	// Monotonic is the host's monotonic clock in milliseconds.
	Monotonic() int64
	// StoreGet reads a key; failure is a non-empty message.
	StoreGet(key string) (value string, found bool, failure string)
	// StoreSwap replaces old (nil: absent) with new (nil: remove) under key.
	// When the value held was not old, conflict is true and current is the
	// value held (nil: none); failure is a non-empty message.
	StoreSwap(key string, old, new *string) (conflict bool, current *string, failure string)
	// StoreLock takes the lease on key, waiting up to waitMs. It answers the
	// lease, or busy when another holder kept it, or cancelled.
	StoreLock(key string, waitMs, ttlMs int64) (lease string, busy, cancelled bool, failure string)
	// StoreUnlock releases a lease.
	StoreUnlock(key, lease string)
	// Emit hands an event to the application and reports whether the
	// application asked to cancel.
	Emit(event []byte) (cancelled bool)
}

// Run runs op with the export's raw input to its end and answers the
// result JSON or the error. The stepwise exports (begin, poll) never sleep:
// at the engine's first sleep they answer the pending state instead.
func Run(op flow.Op, input []byte, h Host) ([]byte, *flow.Error) {
	m, eff := flow.Start(op, input, h.Now(), h.Monotonic())
	stepwise := op == flow.OpBegin || op == flow.OpPoll
	for {
		var ev flow.Event
		switch eff.Kind {
		case flow.EffectDone:
			return eff.Result, nil
		case flow.EffectFail:
			return nil, eff.Err
		case flow.EffectRequest:
			ev.Response = h.HTTP(eff.Request)
		case flow.EffectSleep:
			if stepwise {
				return m.Suspend(), nil
			}
			ev.Cancelled = h.Sleep(eff.SleepMs)
		case flow.EffectEmit:
			ev.Cancelled = h.Emit(eff.Event)
		case flow.EffectStoreGet:
			ev.Value, ev.Found, ev.StoreError = h.StoreGet(eff.Key)
		case flow.EffectStoreSwap:
			var cur *string
			ev.Conflict, cur, ev.StoreError = h.StoreSwap(eff.Key, eff.Old, eff.New)
			if cur != nil {
				ev.Found, ev.Value = true, *cur
			}
		case flow.EffectStoreLock:
			ev.Lease, ev.Busy, ev.Cancelled, ev.StoreError = h.StoreLock(eff.Key, eff.WaitMs, eff.TTLMs)
		case flow.EffectStoreUnlock:
			h.StoreUnlock(eff.Key, eff.Lease)
		}
		ev.Now, ev.Mono = h.Now(), h.Monotonic()
		eff = m.Step(ev)
	}
}
