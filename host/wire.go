package host

import "encoding/json"

// httpRequest is the plugin's http_request argument (wit: http-request).
type httpRequest struct {
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers"`
	Body      string            `json:"body"`
	TimeoutMs int64             `json:"timeoutMs"`
}

// httpResponse is the host's answer (wit: http-response).
type httpResponse struct {
	Status  int               `json:"status,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    string            `json:"body,omitempty"`
	Error   *wireError        `json:"error,omitempty"`
}

// wireError is a failure without a response (wit: http-error).
type wireError struct {
	Kind    string `json:"kind"`
	Message string `json:"message"`
}

// storeAnswer is the answer to every store call (wit: store-answer).
type storeAnswer struct {
	Value *string    `json:"value,omitempty"`
	Error *wireError `json:"error,omitempty"`
}

// storeEntry is store_set's argument (wit: store-entry).
type storeEntry struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Event is something the plugin tells the application while it works: the
// verification code to show, a poll, a slow_down, a refresh. JSON holds the
// whole event as the plugin emitted it (see wit/deviceflow.wit); it never
// carries an access or refresh token.
type Event struct {
	Type string
	JSON json.RawMessage
}
