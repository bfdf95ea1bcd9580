package host

import (
	"encoding/json"

	"github.com/deviceflow/deviceflow/plugin/flow"
)

// The HTTP records are the engine's own types (wit: http-request,
// http-response, http-error), declared once in plugin/flow.
type (
	httpRequest  = flow.Request
	httpResponse = flow.Response
	wireError    = flow.HTTPError
)

// storeAnswer is the answer to every store call (wit: store-answer).
type storeAnswer struct {
	Value     *string    `json:"value,omitempty"`
	Conflict  bool       `json:"conflict,omitempty"`
	Lease     string     `json:"lease,omitempty"`
	Busy      bool       `json:"busy,omitempty"`
	Cancelled bool       `json:"cancelled,omitempty"`
	Error     *wireError `json:"error,omitempty"`
}

// storeSwap is store_swap's argument (wit: store-swap): nil Old means
// "absent", nil New means "remove".
type storeSwap struct {
	Key string  `json:"key"`
	Old *string `json:"old"`
	New *string `json:"new"`
}

// storeLock is store_lock's argument (wit: store-lock).
type storeLock struct {
	Key    string `json:"key"`
	WaitMs int64  `json:"waitMs"`
	TTLMs  int64  `json:"ttlMs"`
}

// storeUnlock is store_unlock's argument (wit: store-unlock).
type storeUnlock struct {
	Key   string `json:"key"`
	Lease string `json:"lease"`
}

// Event is something the plugin tells the application while it works: the
// verification code to show, a poll, a slow_down, a refresh. JSON holds the
// whole event as the plugin emitted it (see wit/deviceflow.wit); it never
// carries an access or refresh token.
type Event struct {
	Type string
	JSON json.RawMessage
}
