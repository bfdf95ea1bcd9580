package driver_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/deviceflow/deviceflow/plugin/flow"
	"github.com/deviceflow/deviceflow/plugin/flow/driver"
)

// pollFuncs is a host whose every HTTP answer is the one GitHub gives a
// poll before the user approves (authorization_pending, with the headers a
// Go server sends), as the records the plugin's host functions exchange:
// what the wasm guest does for one poll, natively.
type pollFuncs struct {
	now     int64
	answer  []byte
	events  int
	request []byte
}

func (f *pollFuncs) HTTPRequest(req []byte) []byte {
	f.request = append(f.request[:0], req...)
	return f.answer
}
func (f *pollFuncs) Sleep(int64) bool          { return false }
func (f *pollFuncs) Now() int64                { return f.now }
func (f *pollFuncs) Monotonic() int64          { return f.now }
func (f *pollFuncs) StoreGet([]byte) []byte    { return []byte(`{}`) }
func (f *pollFuncs) StoreSwap([]byte) []byte   { return []byte(`{}`) }
func (f *pollFuncs) StoreLock([]byte) []byte   { return []byte(`{}`) }
func (f *pollFuncs) StoreUnlock([]byte) []byte { return []byte(`{}`) }
func (f *pollFuncs) Emit(event []byte) bool    { f.events++; return false }

// httpAnswer writes an http-response record as the Go host does.
func httpAnswer(tb testing.TB, body string) []byte {
	tb.Helper()
	b, err := json.Marshal(flow.Response{Status: 200, Headers: map[string]string{
		"cache-control":  "no-store",
		"content-length": "999",
		"content-type":   "application/json; charset=utf-8",
		"date":           "Thu, 03 Dec 2026 11:05:48 GMT",
	}, Body: body})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

const pendingBody = `{"error":"authorization_pending","error_description":"The authorization request is still pending.","error_uri":"https://docs.github.com/developers/apps/authorizing-oauth-apps#error-codes-for-the-device-flow"}`

// pollInput begins a flow against f and answers poll's input for it.
func pollInput(tb testing.TB, f *pollFuncs) []byte {
	tb.Helper()
	f.answer = httpAnswer(tb, `{"device_code":"3584d83530557fdd1f46af8289938c8ef79f9dc5","user_code":"WDJB-MJHT","verification_uri":"https://github.com/login/device","expires_in":360000000,"interval":5}`)
	out, err := driver.Run(flow.OpBegin, []byte(`{"clientId":"Ov23liBench","scopes":["repo"]}`), driver.FuncHost{F: f})
	if err != nil {
		tb.Fatalf("begin: %s", err.JSON())
	}
	f.answer = httpAnswer(tb, pendingBody)
	return stateInput(tb, out)
}

// stateInput turns begin's or poll's pending answer into the next poll's
// input.
func stateInput(tb testing.TB, out []byte) []byte {
	var ans struct {
		Status string          `json:"status"`
		State  json.RawMessage `json:"state"`
	}
	if err := json.Unmarshal(out, &ans); err != nil || ans.Status != "pending" {
		tb.Fatalf("not pending: %s", out)
	}
	return append(append([]byte(`{"state":`), ans.State...), '}')
}

// TestPollExchangeNative checks what the benchmark measures: one poll
// sends the device code grant, emits one polling event and answers a
// pending state that polls again an interval later.
func TestPollExchangeNative(t *testing.T) {
	f := &pollFuncs{now: 1_000_000}
	in := pollInput(t, f)
	f.events = 0
	f.now += 6000
	out, err := driver.Run(flow.OpPoll, in, driver.FuncHost{F: f})
	if err != nil {
		t.Fatalf("poll: %s", err.JSON())
	}
	if f.events != 1 {
		t.Errorf("%d events, want 1 (polling)", f.events)
	}
	if !bytes.Contains(f.request, []byte(`grant-type:device_code`)) || !bytes.Contains(f.request, []byte(`3584d83530557fdd1f46af8289938c8ef79f9dc5`)) {
		t.Errorf("request %s is not the device code grant", f.request)
	}
	var ans struct {
		Status     string `json:"status"`
		NextPollAt int64  `json:"nextPollAt"`
	}
	if err := json.Unmarshal(out, &ans); err != nil || ans.Status != "pending" || ans.NextPollAt != f.now+5250 {
		t.Errorf("poll answered %s, want pending with nextPollAt %d", out, f.now+5250)
	}
}

// BenchmarkPollExchangeNative is one poll's work in the engine and driver,
// natively: state parsed, polling event, request written, response read
// and parsed, state written. The plugin does the same in wasm, so its cost
// tracks this benchmark's time and allocations (host/bench measures the
// whole exchange through the plugin).
func BenchmarkPollExchangeNative(b *testing.B) {
	f := &pollFuncs{now: 1_000_000}
	in := pollInput(b, f)
	b.ReportAllocs()
	for b.Loop() {
		f.now += 6000
		out, err := driver.Run(flow.OpPoll, in, driver.FuncHost{F: f})
		if err != nil {
			b.Fatalf("poll: %s", err.JSON())
		}
		// The next input, cheaply: the caller's decoding is not the
		// plugin's work.
		in = append(append(in[:len(`{"state":`)], gjson.GetBytes(out, "state").Raw...), '}')
	}
}
