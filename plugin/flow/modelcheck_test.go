package flow_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/deviceflow/deviceflow/plugin/flow"
	"github.com/deviceflow/deviceflow/plugin/flow/driver"
)

// answer is one server behaviour on the token endpoint.
type answer int

const (
	aPending answer = iota
	aSlowDown
	aSlowDownInterval // slow_down naming a larger interval
	a500
	a429
	aNetwork
	aTimeout
	aToken
	aAccessDenied
	aExpiredToken
	aMalformed
	nAnswers
)

var answerNames = [...]string{"pending", "slow_down", "slow_down+interval", "500", "429", "network", "timeout", "token", "access_denied", "expired_token", "malformed"}

const (
	mcToken   = "gho_ModelCheckSecretToken0123456789"
	mcRefresh = "ghr_ModelCheckRefreshToken0123456789"
	mcStart   = int64(1767225600000)
)

// modelHost answers the device code request, then the scripted answers, and
// checks every property as the run goes.
type modelHost struct {
	t        *testing.T
	script   []answer
	used     int
	now      int64
	expires  int64 // device code lifetime, ms
	deadline int64
	lastPoll int64
	interval int64 // the interval the model expects to be in force
	polls    int
	events   [][]byte
	problems []string
}

func (h *modelHost) fail(format string, args ...any) {
	h.problems = append(h.problems, fmt.Sprintf(format, args...))
}

func (h *modelHost) HTTP(req *flow.Request) *flow.Response {
	if strings.HasSuffix(req.URL, "/login/device/code") {
		h.deadline = h.now + h.expires
		body := fmt.Sprintf(`{"device_code":"DC","user_code":"ABCD-EFGH","verification_uri":"https://github.com/login/device","expires_in":%d,"interval":5}`, h.expires/1000)
		return jsonResp(200, body)
	}
	// A poll.
	if h.now >= h.deadline {
		h.fail("poll at %d, on or after the deadline %d", h.now, h.deadline)
	}
	if h.polls > 0 && h.now-h.lastPoll < h.interval {
		h.fail("polls %d ms apart, interval %d ms", h.now-h.lastPoll, h.interval)
	}
	if h.polls == 0 && h.now-(h.deadline-h.expires) < h.interval {
		h.fail("first poll %d ms after the device code, interval %d ms", h.now-(h.deadline-h.expires), h.interval)
	}
	h.polls++
	h.lastPoll = h.now
	if h.used >= len(h.script) {
		h.fail("poll %d past the script's end", h.polls)
		return &flow.Response{Error: &flow.HTTPError{Kind: "network", Message: "script ended"}}
	}
	a := h.script[h.used]
	h.used++
	switch a {
	case aPending:
		return jsonResp(200, `{"error":"authorization_pending"}`)
	case aSlowDown:
		h.interval += 5000
		return jsonResp(200, `{"error":"slow_down","interval":1}`)
	case aSlowDownInterval:
		h.interval = max(h.interval+5000, 17000)
		return jsonResp(200, `{"error":"slow_down","interval":17}`)
	case a500:
		return jsonResp(500, `{"message":"oops"}`)
	case a429:
		return jsonResp(429, `{"message":"rate limited"}`)
	case aNetwork:
		return &flow.Response{Error: &flow.HTTPError{Kind: "network", Message: "connection reset"}}
	case aTimeout:
		h.now += 30000 // the request ran to its timeout
		return &flow.Response{Error: &flow.HTTPError{Kind: "timeout", Message: "timed out"}}
	case aToken:
		return jsonResp(200, `{"access_token":"`+mcToken+`","token_type":"bearer","scope":"repo"}`)
	case aAccessDenied:
		return jsonResp(200, `{"error":"access_denied","error_description":"The user has denied your application access."}`)
	case aExpiredToken:
		return jsonResp(200, `{"error":"expired_token","error_description":"The device_code has expired."}`)
	}
	return jsonResp(200, `{"access_token":`) // malformed
}

func jsonResp(status int, body string) *flow.Response {
	return &flow.Response{Status: status, Headers: map[string]string{"content-type": "application/json"}, Body: body}
}

// Sleep advances the clock; once the script is used up it cancels, ending
// the run.
func (h *modelHost) Sleep(ms int64) bool {
	if ms <= 0 {
		h.fail("sleep of %d ms", ms)
	}
	if h.used >= len(h.script) {
		return true
	}
	h.now += ms
	return false
}

func (h *modelHost) Now() int64 { return h.now }

// Monotonic runs with the wall clock from another origin, so that any mix
// of the two clocks in the engine shows.
func (h *modelHost) Monotonic() int64 { return h.now - 1700000000000 }

func (h *modelHost) StoreGet(string) (string, bool, string) { return "", false, "" }
func (h *modelHost) StoreSwap(string, *string, *string) (bool, *string, string) {
	return false, nil, ""
}
func (h *modelHost) StoreLock(string, int64, int64) (string, bool, bool, string) {
	return "lease", false, false, ""
}
func (h *modelHost) StoreUnlock(string, string) {}

func (h *modelHost) Emit(ev []byte) bool {
	h.events = append(h.events, ev)
	var e struct {
		Type     string  `json:"type"`
		Interval float64 `json:"interval"`
	}
	if err := json.Unmarshal(ev, &e); err != nil {
		h.fail("event is not JSON: %s", ev)
	}
	if e.Type == "slow_down" || e.Type == "polling" {
		got := int64(e.Interval * 1000)
		if got != h.interval {
			h.fail("%s event says interval %d ms, model says %d ms", e.Type, got, h.interval)
		}
	}
	return false
}

// expectedEnd is the outcome a script must end in.
func expectedEnd(h *modelHost) string {
	last := h.script[len(h.script)-1]
	switch last {
	case aToken:
		return "token"
	case aAccessDenied:
		return string(flow.CodeAccessDenied)
	case aExpiredToken:
		return string(flow.CodeExpiredToken)
	case aMalformed:
		if garbageRun(h.script) >= 3 {
			return string(flow.CodeInvalidResponse)
		}
	}
	return "" // cancelled at the next sleep, or the deadline came first
}

// garbageRun counts the unusable answers in a row at the script's end
// (rule 4): an answer the engine understood breaks the run; transport
// faults, 429 and 5xx, which carry no answer, do not.
func garbageRun(script []answer) int {
	n := 0
	for _, a := range script {
		switch a {
		case aMalformed:
			n++
		case aPending, aSlowDown, aSlowDownInterval:
			n = 0
		}
	}
	return n
}

// terminal reports whether a script's last answer ends the run.
func terminal(script []answer) bool {
	last := script[len(script)-1]
	if last == aMalformed {
		return garbageRun(script) >= 3
	}
	return last >= aToken
}

// TestModelCheck explores every sequence of up to 6 server answers on the
// token endpoint, for a long and a short device-code lifetime, and checks
// the rules on every run: no two polls closer than the interval in force; the
// interval never shrinks and grows by at least 5 s on slow_down; no poll on
// or after the deadline; unusable answers are transient until three in a
// row; exactly one token or one typed error; no token in an event or error.
func TestModelCheck(t *testing.T) {
	var total atomic.Int64
	t.Cleanup(func() { t.Logf("model check: %d answer sequences explored", total.Load()) })
	for _, expires := range []int64{900000, 40000} {
		for first := answer(0); first < nAnswers; first++ {
			t.Run(fmt.Sprintf("expires=%ds/first=%s", expires/1000, answerNames[first]), func(t *testing.T) {
				t.Parallel()
				total.Add(int64(explore(t, []answer{first}, expires)))
			})
		}
	}
}

// explore checks the run for prefix and every extension of it up to six
// answers, and reports how many runs it checked.
func explore(t *testing.T, prefix []answer, expires int64) int {
	checkRun(t, prefix, expires)
	runs := 1
	if n := len(prefix); n == 6 || terminal(prefix) {
		return runs // a terminal answer ends the run: nothing follows it
	}
	for a := answer(0); a < nAnswers; a++ {
		runs += explore(t, append(prefix[:len(prefix):len(prefix)], a), expires)
	}
	return runs
}

func checkRun(t *testing.T, script []answer, expires int64) {
	h := &modelHost{t: t, script: script, now: mcStart, expires: expires, interval: 5000}
	input := []byte(`{"clientId":"Iv1.model","scopes":"repo"}`)
	out, ferr := driver.Run(flow.OpAuthenticate, input, h)
	names := make([]string, len(script))
	for i, a := range script {
		names[i] = answerNames[a]
	}
	label := fmt.Sprintf("expires=%ds %v", expires/1000, names)
	for _, p := range h.problems {
		t.Errorf("%s: %s", label, p)
	}
	if (out == nil) == (ferr == nil) {
		t.Fatalf("%s: want exactly one of a result or an error, got %s and %v", label, out, ferr)
	}
	for _, ev := range h.events {
		if strings.Contains(string(ev), mcToken) {
			t.Errorf("%s: token in event %s", label, ev)
		}
	}
	got := "token"
	if ferr != nil {
		got = string(ferr.Code)
		if strings.Contains(string(ferr.JSON()), mcToken) {
			t.Errorf("%s: token in error %s", label, ferr.JSON())
		}
		switch ferr.Code {
		case flow.CodeAuthorizationPending, flow.CodeSlowDown:
			t.Errorf("%s: internal code %s escaped", label, ferr.Code)
		}
	} else if !strings.Contains(string(out), mcToken) {
		t.Errorf("%s: result without the token: %s", label, out)
	}
	want := expectedEnd(h)
	switch {
	case h.used < len(script):
		// The deadline ended the run before the script did.
		if got != string(flow.CodeExpiredToken) {
			t.Errorf("%s: run ended early with %s, want expired_token", label, got)
		}
	case want == "":
		if got != string(flow.CodeCancelled) && got != string(flow.CodeExpiredToken) {
			t.Errorf("%s: ended with %s, want cancelled or expired_token", label, got)
		}
	case got != want:
		t.Errorf("%s: ended with %s, want %s", label, got, want)
	}
}
