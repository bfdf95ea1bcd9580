package flow

import (
	"slices"

	"github.com/tidwall/gjson"
)

// The records the guest exchanges with its host functions
// (wit/deviceflow.wit: http-request, http-response, store-swap, store-lock,
// store-unlock, store-answer), written and read here, where native tests
// can check them against encoding/json.

// AppendRequest writes an HTTP request for http_request.
func AppendRequest(b []byte, r *Request) []byte {
	o := newObj(b)
	o.str("method", r.Method)
	o.str("url", r.URL)
	o.key("headers")
	if r.Headers == nil {
		o.b = append(o.b, "null"...)
	} else {
		// The engine's requests have a few headers: their names fit
		// here without an allocation.
		var few [8]string
		names := few[:0]
		for k := range r.Headers {
			names = append(names, k)
		}
		slices.Sort(names)
		h := newObj(o.b)
		for _, k := range names {
			h.str(k, r.Headers[k])
		}
		o.b = h.close()
	}
	o.str("body", r.Body)
	o.int("timeoutMs", r.TimeoutMs)
	return o.close()
}

var (
	responseFields  = []string{"status", "headers", "body", "error"}
	httpErrorFields = []string{"kind", "message"}
)

// ParseResponse reads http_request's answer; ok is false when it is not a
// response: malformed, of the wrong types, or with neither a status nor an
// error. Of the headers it keeps those the engine reads
// (ReadsResponseHeader).
func ParseResponse(raw []byte) (*Response, bool) {
	if !gjson.ValidBytes(raw) {
		return nil, false
	}
	root := gjson.ParseBytes(raw)
	if root.Type != gjson.Null && !root.IsObject() {
		return nil, false
	}
	var r Response
	d := decoder{names: responseFields}
	d.each(root, func(i int, v gjson.Result) {
		switch i {
		case 0:
			var n int64
			d.integer(i, v, &n)
			r.Status = int(n)
		case 1:
			switch {
			case v.Type == gjson.Null:
				r.Headers = nil
			case v.IsObject():
				if r.Headers == nil {
					r.Headers = map[string]string{}
				}
				// Every value is checked, as encoding/json would, but only
				// the headers the engine reads are kept (ReadsResponseHeader).
				v.ForEach(func(k, hv gjson.Result) bool {
					switch hv.Type {
					case gjson.String, gjson.Null:
						if name := jsonString(k); ReadsResponseHeader(name) {
							r.Headers[name] = jsonString(hv)
						}
					default:
						d.mismatch(i, "string")
					}
					return true
				})
			default:
				d.mismatch(i, "map[string]string")
			}
		case 2:
			d.str(i, v, &r.Body)
		case 3:
			switch {
			case v.Type == gjson.Null:
				r.Error = nil
			case v.IsObject():
				if r.Error == nil {
					r.Error = &HTTPError{}
				}
				ed := decoder{names: httpErrorFields}
				ed.each(v, func(j int, w gjson.Result) {
					if j == 0 {
						ed.str(j, w, &r.Error.Kind)
					} else {
						ed.str(j, w, &r.Error.Message)
					}
				})
				if ed.bad != "" {
					d.mismatch(i, "string")
				}
			default:
				d.mismatch(i, "HTTPError")
			}
		}
	})
	if d.bad != "" || (r.Status == 0 && r.Error == nil) {
		return nil, false
	}
	return &r, true
}

// StoreAnswer is the host's answer to a store call. Error is the failure's
// message when the answer carries an error (nil when none).
type StoreAnswer struct {
	Value     *string
	Conflict  bool
	Lease     string
	Busy      bool
	Cancelled bool
	Error     *string
}

var storeAnswerFields = []string{"value", "conflict", "lease", "busy", "cancelled", "error"}

// ParseStoreAnswer reads a store call's answer; ok is false when it is
// malformed or of the wrong types.
func ParseStoreAnswer(raw []byte) (StoreAnswer, bool) {
	var a StoreAnswer
	if !gjson.ValidBytes(raw) {
		return a, false
	}
	root := gjson.ParseBytes(raw)
	if root.Type != gjson.Null && !root.IsObject() {
		return a, false
	}
	d := decoder{names: storeAnswerFields}
	d.each(root, func(i int, v gjson.Result) {
		switch i {
		case 0:
			if v.Type == gjson.Null {
				a.Value = nil
				return
			}
			var s string
			d.str(i, v, &s)
			if v.Type == gjson.String {
				a.Value = &s
			}
		case 1:
			d.boolean(i, v, &a.Conflict)
		case 2:
			d.str(i, v, &a.Lease)
		case 3:
			d.boolean(i, v, &a.Busy)
		case 4:
			d.boolean(i, v, &a.Cancelled)
		case 5:
			switch {
			case v.Type == gjson.Null:
				a.Error = nil
			case v.IsObject():
				if a.Error == nil {
					a.Error = new(string)
				}
				ed := decoder{names: []string{"message"}}
				ed.each(v, func(j int, w gjson.Result) { ed.str(j, w, a.Error) })
				if ed.bad != "" {
					d.mismatch(i, "string")
				}
			default:
				d.mismatch(i, "object")
			}
		}
	})
	return a, d.bad == ""
}

// AppendStoreSwap writes store_swap's argument; a nil old or new is left
// out (absent; remove).
func AppendStoreSwap(b []byte, key string, old, new *string) []byte {
	o := newObj(b)
	o.str("key", key)
	if old != nil {
		o.str("old", *old)
	}
	if new != nil {
		o.str("new", *new)
	}
	return o.close()
}

// AppendStoreLock writes store_lock's argument.
func AppendStoreLock(b []byte, key string, waitMs, ttlMs int64) []byte {
	o := newObj(b)
	o.str("key", key)
	o.int("waitMs", waitMs)
	o.int("ttlMs", ttlMs)
	return o.close()
}

// AppendStoreUnlock writes store_unlock's argument.
func AppendStoreUnlock(b []byte, key, lease string) []byte {
	o := newObj(b)
	o.str("key", key)
	o.str("lease", lease)
	return o.close()
}

// The host's halves of the HTTP records and of an event's type: what a Go
// host reads from and writes to the plugin, as encoding/json reads and
// writes them, without its reflection.

var requestFields = []string{"method", "url", "headers", "body", "timeoutMs"}

// ParseRequest reads an http-request record as encoding/json would into a
// Request; ok is false where encoding/json would fail (malformed JSON, a
// value of the wrong type).
func ParseRequest(raw []byte) (*Request, bool) {
	if !gjson.ValidBytes(raw) {
		return nil, false
	}
	root := gjson.ParseBytes(raw)
	if root.Type != gjson.Null && !root.IsObject() {
		return nil, false
	}
	var r Request
	d := decoder{names: requestFields}
	d.each(root, func(i int, v gjson.Result) {
		switch i {
		case 0:
			d.str(i, v, &r.Method)
		case 1:
			d.str(i, v, &r.URL)
		case 2:
			d.strMap(i, v, &r.Headers)
		case 3:
			d.str(i, v, &r.Body)
		case 4:
			d.integer(i, v, &r.TimeoutMs)
		}
	})
	if d.bad != "" {
		return nil, false
	}
	return &r, true
}

// AppendResponse writes an http-response record as encoding/json writes a
// Response: empty members left out, header names sorted.
func AppendResponse(b []byte, r *Response) []byte {
	o := newObj(b)
	if r.Status != 0 {
		o.int("status", int64(r.Status))
	}
	if len(r.Headers) > 0 {
		var few [16]string
		names := few[:0]
		for k := range r.Headers {
			names = append(names, k)
		}
		slices.Sort(names)
		o.key("headers")
		h := newObj(o.b)
		for _, k := range names {
			h.str(k, r.Headers[k])
		}
		o.b = h.close()
	}
	o.strOmit("body", r.Body)
	if r.Error != nil {
		o.key("error")
		e := newObj(o.b)
		e.str("kind", r.Error.Kind)
		e.str("message", r.Error.Message)
		o.b = e.close()
	}
	return o.close()
}

// EventType is an event's type member, as encoding/json reads it into a
// struct with only that field: "" when the event is malformed or has none.
func EventType(raw []byte) string {
	if !gjson.ValidBytes(raw) {
		return ""
	}
	var typ string
	d := decoder{names: []string{"type"}}
	d.each(gjson.ParseBytes(raw), func(i int, v gjson.Result) { d.str(i, v, &typ) })
	return typ
}
