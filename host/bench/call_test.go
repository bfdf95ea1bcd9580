package bench

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/deviceflow/deviceflow/host"
)

// cannedTransport answers GitHub's device code request and every poll
// from memory, as GitHub answers them before the user approves: no
// network, no server.
type cannedTransport struct{}

func (cannedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	body := `{"error":"authorization_pending","error_description":"The authorization request is still pending.","error_uri":"https://docs.github.com/developers/apps/authorizing-oauth-apps#error-codes-for-the-device-flow"}`
	if r.URL.Path == "/login/device/code" {
		body = `{"device_code":"3584d83530557fdd1f46af8289938c8ef79f9dc5","user_code":"WDJB-MJHT","verification_uri":"https://github.com/login/device","expires_in":360000000,"interval":1}`
	}
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	return &http.Response{StatusCode: 200, Request: r, ContentLength: int64(len(body)), Body: io.NopCloser(strings.NewReader(body)), Header: http.Header{
		"Cache-Control":  {"no-store"},
		"Content-Length": {"999"},
		"Content-Type":   {"application/json; charset=utf-8"},
		"Date":           {"Thu, 03 Dec 2026 11:05:48 GMT"},
	}}, nil
}

// BenchmarkPollCall is the poll export's call in the Go host with an HTTP
// transport that answers from memory: what BenchmarkPollExchange measures
// for the plugin, less the network and the emulator, so mostly the
// plugin's wasm (state in, polling event, request and answer records
// through Extism memory, state out).
func BenchmarkPollCall(b *testing.B) {
	now := time.Now()
	h, err := host.New(host.Options{
		HTTPClient: &http.Client{Transport: cannedTransport{}},
		Clock:      func() time.Time { return now },
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { h.Close(context.Background()) })
	out, err := h.Call(context.Background(), "begin", []byte(`{"clientId":"Ov23liBench","scopes":["repo"]}`))
	if err != nil {
		b.Fatal(err)
	}
	state := pending(b, out)
	poll := func() {
		now = now.Add(step)
		in := make([]byte, 0, len(state)+16)
		in = append(append(append(in, `{"state":`...), state...), '}')
		out, err := h.Call(context.Background(), "poll", in)
		if err != nil {
			b.Fatal(err)
		}
		state = pending(b, out)
	}
	poll() // warm the instance
	b.ReportAllocs()
	for b.Loop() {
		poll()
	}
}
