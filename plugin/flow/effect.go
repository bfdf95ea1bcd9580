package flow

import "encoding/json"

// EffectKind names what the engine asks its driver to do.
type EffectKind string

// The effects. Every effect but Done and Fail expects exactly one Event in
// answer.
const (
	// EffectRequest: perform Effect.Request; answer with Event.Response.
	EffectRequest EffectKind = "request"
	// EffectSleep: sleep Effect.SleepMs; answer with Event.Cancelled when the
	// sleep was cut short by cancellation. A driver that cannot sleep (the
	// begin and poll exports) stops here and hands Suspend's answer out.
	EffectSleep EffectKind = "sleep"
	// EffectEmit: hand Effect.Event to the application; answer with
	// Event.Cancelled when the application asked to stop.
	EffectEmit EffectKind = "emit"
	// EffectStoreGet: read Effect.Key; answer with Event.Found and
	// Event.Value, or Event.StoreError.
	EffectStoreGet EffectKind = "storeGet"
	// EffectStoreSet: write Effect.Value under Effect.Key; answer with
	// Event.StoreError when the write failed.
	EffectStoreSet EffectKind = "storeSet"
	// EffectStoreDelete: remove Effect.Key; answer with Event.StoreError when
	// the removal failed.
	EffectStoreDelete EffectKind = "storeDelete"
	// EffectDone: the export succeeded with Effect.Result.
	EffectDone EffectKind = "done"
	// EffectFail: the export failed with Effect.Err.
	EffectFail EffectKind = "fail"
)

// Effect is one thing the engine asks its driver to do.
type Effect struct {
	Kind    EffectKind      `json:"kind"`
	Request *Request        `json:"request,omitempty"`
	SleepMs int64           `json:"sleepMs,omitempty"`
	Event   json.RawMessage `json:"event,omitempty"`
	Key     string          `json:"key,omitempty"`
	Value   string          `json:"value,omitempty"`
	Result  json.RawMessage `json:"result,omitempty"`
	Err     *Error          `json:"error,omitempty"`
}

// Terminal reports whether the effect ends the export.
func (e Effect) Terminal() bool { return e.Kind == EffectDone || e.Kind == EffectFail }

// Event is the driver's answer to the last effect. Now is the host's clock
// in Unix milliseconds when the answer is delivered; it is always set.
type Event struct {
	Now        int64
	Response   *Response
	Cancelled  bool
	Found      bool
	Value      string
	StoreError string
}

func done(result []byte) Effect { return Effect{Kind: EffectDone, Result: result} }

func fail(err *Error) Effect { return Effect{Kind: EffectFail, Err: err} }

func emit(event map[string]any) Effect {
	b, _ := json.Marshal(event)
	return Effect{Kind: EffectEmit, Event: b}
}
