package flow_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/deviceflow/deviceflow/plugin/flow"
	"github.com/deviceflow/deviceflow/plugin/flow/driver"
)

var knownCodes = func() map[flow.Code]bool {
	m := map[flow.Code]bool{}
	for _, c := range flow.Codes {
		m[c] = true
	}
	return m
}()

// FuzzParseFields feeds arbitrary bodies to the response parser: it must
// never panic, and whatever it accepts must be a set of field names.
func FuzzParseFields(f *testing.F) {
	f.Add("application/json", `{"device_code":"x","interval":5.5}`)
	f.Add("application/x-www-form-urlencoded", "error=authorization_pending&error_description=pending")
	f.Add("", "access_token=gho_x&scope=repo%2Cgist")
	f.Add("text/html", "<html>")
	f.Add("application/json; charset=utf-8", `{"a":[1,{"b":null}],"c":true}`)
	f.Fuzz(func(t *testing.T, contentType, body string) {
		names, ok := flow.ParseFields(contentType, body)
		if !ok && len(names) != 0 {
			t.Fatalf("rejected body yielded fields %v", names)
		}
	})
}

// scriptHost answers every request with the same response and cancels at
// the first sleep, so a fuzzed run always ends.
type scriptHost struct {
	device *flow.Response
	poll   *flow.Response
	value  string
	events []string
	now    int64
	sleeps int
}

func (h *scriptHost) HTTP(req *flow.Request) *flow.Response {
	if strings.HasSuffix(req.URL, "/login/device/code") && h.device != nil {
		return h.device
	}
	return h.poll
}
func (h *scriptHost) Sleep(ms int64) bool {
	h.now += ms
	h.sleeps++
	return h.sleeps > 50 // long runs end by cancellation
}
func (h *scriptHost) Now() int64       { return 1767225600000 + h.now }
func (h *scriptHost) Monotonic() int64 { return 3000000 + h.now }
func (h *scriptHost) StoreGet(string) (string, bool, string) {
	return h.value, h.value != "", ""
}
func (h *scriptHost) StoreSwap(string, *string, *string) (bool, *string, string) {
	return false, nil, ""
}
func (h *scriptHost) StoreLock(string, int64, int64) (string, bool, bool, string) {
	return "lease-1", false, false, ""
}
func (h *scriptHost) StoreUnlock(string, string) {}
func (h *scriptHost) Emit(ev []byte) bool {
	h.events = append(h.events, string(ev))
	return len(h.events) > 50 // long runs end by cancellation
}

// checkEnd asserts a run ended in exactly one well-formed result or typed
// error, with no secret in an event or an error.
func checkEnd(t *testing.T, h *scriptHost, out []byte, err *flow.Error, secrets ...string) {
	t.Helper()
	if (out == nil) == (err == nil) {
		t.Fatalf("want exactly one of result and error: %q, %v", out, err)
	}
	if err != nil {
		if !knownCodes[err.Code] || err.Code == flow.CodeAuthorizationPending || err.Code == flow.CodeSlowDown {
			t.Fatalf("unexpected error code %q", err.Code)
		}
		if err.Message == "" {
			t.Fatal("error without a message")
		}
	} else if !json.Valid(out) {
		t.Fatalf("result is not JSON: %q", out)
	}
	for _, s := range secrets {
		if len(s) < 8 {
			continue
		}
		for _, ev := range h.events {
			if strings.Contains(ev, s) {
				t.Fatalf("secret in event %s", ev)
			}
		}
		if err != nil && strings.Contains(string(err.JSON()), s) {
			t.Fatalf("secret in error %s", err.JSON())
		}
	}
}

// FuzzInput runs every export on arbitrary input: bad input must end in a
// typed error, never a panic.
func FuzzInput(f *testing.F) {
	f.Add(uint8(0), `{"clientId":"Iv1.x","scopes":"repo, gist"}`)
	f.Add(uint8(1), `{"clientId":"Iv1.x","clientType":"github-app","baseUrl":"https://ghe.example.com/api/v3"}`)
	f.Add(uint8(2), `{"state":{"v":1,"op":"begin","phase":"waiting","awaiting":"sleep","deviceCode":"d","intervalMs":5000,"deadline":1767226600000,"wakeAt":1,"config":{"clientId":"x","clientType":"oauth-app","scopes":[],"encoding":"json","base":"https://github.com","api":"https://api.github.com"}}}`)
	f.Add(uint8(6), `{"clientId":"x","method":"GET","url":"https://api.github.com/user"}`)
	f.Add(uint8(4), `{"clientId":"x","token":"gho_abc"}`)
	f.Add(uint8(0), `{"clientId":5}`)
	f.Add(uint8(0), `[]`)
	f.Add(uint8(0), `{"clientId":"x","issuer":"https://idp.example.com/realms/r","clientSecret":"s3cret-value"}`)
	f.Add(uint8(5), `{"clientId":"x","deviceEndpoint":"https://idp.example.com/device","tokenEndpoint":"https://idp.example.com/token","revocationEndpoint":"https://idp.example.com/revoke"}`)
	f.Add(uint8(2), `{"clientSecret":"s","state":{"v":1,"op":"begin","phase":"waiting","awaiting":"sleep","deviceCode":"d","intervalMs":5000,"deadline":1767226600000,"wakeAt":1,"config":{"clientId":"x","scopes":[],"encoding":"form","base":"https://idp.example.com","api":"https://idp.example.com","profile":"generic","issuer":"https://idp.example.com/r","deviceEndpoint":"https://idp.example.com/r/device","tokenEndpoint":"https://idp.example.com/r/token","discovered":true}}}`)
	f.Fuzz(func(t *testing.T, op uint8, input string) {
		ops := []flow.Op{flow.OpAuthenticate, flow.OpBegin, flow.OpPoll, flow.OpRefresh, flow.OpCheck, flow.OpLogout, flow.OpAuthorize}
		h := &scriptHost{
			device: jsonResp(200, `{"device_code":"d","user_code":"U","verification_uri":"https://github.com/login/device"}`),
			poll:   jsonResp(200, `{"error":"authorization_pending"}`),
		}
		out, err := driver.Run(ops[int(op)%len(ops)], []byte(input), h)
		checkEnd(t, h, out, err)
	})
}

// FuzzServerAnswers runs a device flow whose device code and token answers
// are arbitrary: the engine must end cleanly and never leak the token it
// put in the answer into an event or error.
func FuzzServerAnswers(f *testing.F) {
	f.Add(200, "application/json", `{"device_code":"d","user_code":"U","verification_uri":"https://x/login/device","interval":0.5}`, 200, "application/json", `{"access_token":"gho_FuzzSecret12345","scope":"repo"}`)
	f.Add(200, "", `device_code=d&user_code=U&verification_url=https%3A%2F%2Fx`, 200, "application/x-www-form-urlencoded", `error=slow_down&interval=12`)
	f.Add(400, "application/json", `{"error":"device_flow_disabled"}`, 200, "", ``)
	f.Add(200, "application/json", `{"device_code":"d","user_code":"U","verification_uri":"u","expires_in":"x"}`, 503, "text/plain", `busy`)
	f.Add(200, "application/json", `{"device_code":"d","user_code":"U","verification_uri":"u"}`, 200, "application/json", `{"error":"access_denied","error_description":"gho_FuzzSecret12345 leaked"}`)
	f.Fuzz(func(t *testing.T, s1 int, ct1, b1 string, s2 int, ct2, b2 string) {
		h := &scriptHost{
			device: &flow.Response{Status: s1, Headers: map[string]string{"content-type": ct1}, Body: b1},
			poll:   &flow.Response{Status: s2, Headers: map[string]string{"content-type": ct2}, Body: b2},
		}
		out, err := driver.Run(flow.OpAuthenticate, []byte(`{"clientId":"Iv1.fuzz"}`), h)
		checkEnd(t, h, out, err, "gho_FuzzSecret12345")
	})
}

// FuzzCachedValue feeds arbitrary store values to authenticate: a corrupt
// entry must never crash the engine.
func FuzzCachedValue(f *testing.F) {
	f.Add(`{"type":"token","tokenType":"oauth","clientType":"oauth-app","clientId":"Iv1.fuzz","token":"gho_x"}`)
	f.Add(`{"token":"gho_x","clientId":"Iv1.fuzz","clientType":"oauth-app","expiresAt":"nonsense","refreshToken":"ghr_y"}`)
	f.Add(`not json`)
	f.Fuzz(func(t *testing.T, value string) {
		h := &scriptHost{
			value:  value,
			device: jsonResp(200, `{"device_code":"d","user_code":"U","verification_uri":"u"}`),
			poll:   jsonResp(200, `{"error":"access_denied"}`),
		}
		out, err := driver.Run(flow.OpAuthenticate, []byte(`{"clientId":"Iv1.fuzz"}`), h)
		checkEnd(t, h, out, err)
	})
}
