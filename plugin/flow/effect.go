package flow

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
	// EffectStoreSwap: replace the value under Effect.Key with Effect.New
	// (nil: remove it) only when the value held is Effect.Old (nil: none);
	// answer with Event.Conflict and the value now held in Event.Found and
	// Event.Value when it was not, or Event.StoreError.
	EffectStoreSwap EffectKind = "storeSwap"
	// EffectStoreLock: take the lease on Effect.Key, waiting up to
	// Effect.WaitMs; answer with Event.Lease, Event.Busy when another
	// holder kept it, Event.Cancelled, or Event.StoreError.
	EffectStoreLock EffectKind = "storeLock"
	// EffectStoreUnlock: release Effect.Lease on Effect.Key. Its answer is
	// ignored: the host releases every lease when the call ends anyway.
	EffectStoreUnlock EffectKind = "storeUnlock"
	// EffectDone: the export succeeded with Effect.Result.
	EffectDone EffectKind = "done"
	// EffectFail: the export failed with Effect.Err.
	EffectFail EffectKind = "fail"
)

// Effect is one thing the engine asks its driver to do.
type Effect struct {
	Kind    EffectKind
	Request *Request
	SleepMs int64
	// Event is the event's JSON.
	Event  []byte
	Key    string
	Old    *string
	New    *string
	WaitMs int64
	TTLMs  int64
	Lease  string
	// Result is the export's JSON answer.
	Result []byte
	Err    *Error
}

// Terminal reports whether the effect ends the export.
func (e Effect) Terminal() bool { return e.Kind == EffectDone || e.Kind == EffectFail }

// Event is the driver's answer to the last effect. Now is the host's wall
// clock in Unix milliseconds and Mono its monotonic clock in milliseconds
// when the answer is delivered; both are always set. The engine measures
// waits and deadlines on Mono and stamps expiry times from Now.
type Event struct {
	Now        int64
	Mono       int64
	Response   *Response
	Cancelled  bool
	Found      bool
	Value      string
	Conflict   bool
	Lease      string
	Busy       bool
	StoreError string
}

func done(result []byte) Effect { return Effect{Kind: EffectDone, Result: result} }

func fail(err *Error) Effect { return Effect{Kind: EffectFail, Err: err} }

// emit hands out an event, written as an obj whose members are in the
// order encoding/json gave a map's keys: sorted.
func emit(o obj) Effect { return Effect{Kind: EffectEmit, Event: o.close()} }
