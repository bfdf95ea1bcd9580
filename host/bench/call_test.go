package bench

import (
	"context"
	"io"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/deviceflow/deviceflow/host"
)

// cannedTransport answers GitHub's device code request and every poll
// from memory, as GitHub answers them before the user approves: no
// network, no server. With github set it sends the headers github.com
// sends with such an answer (their names and typical lengths: a long
// Content-Security-Policy, three cookies); otherwise the four the emulator
// sends.
type cannedTransport struct{ github bool }

// githubHeaders are headers as github.com sends them with an OAuth answer:
// real names, values of a realistic length, nothing secret.
var githubHeaders = http.Header{
	"Server":                    {"github.com"},
	"Vary":                      {"X-PJAX, X-PJAX-Container, Turbo-Visit, Turbo-Frame, Accept-Encoding, Accept, X-Requested-With"},
	"Etag":                      {`W/"4f0a8c2d9e7b6a5f4e3d2c1b0a998877"`},
	"Strict-Transport-Security": {"max-age=31536000; includeSubdomains; preload"},
	"X-Frame-Options":           {"deny"},
	"X-Content-Type-Options":    {"nosniff"},
	"X-Xss-Protection":          {"0"},
	"Referrer-Policy":           {"origin-when-cross-origin, strict-origin-when-cross-origin"},
	"Content-Security-Policy":   {"default-src 'none'; base-uri 'self'; child-src github.com/assets-cdn/worker/ gist.github.com/assets-cdn/worker/; " + strings.Repeat("connect-src 'self' uploads.github.com api.github.com collector.github.com objects-origin.githubusercontent.com; ", 14)},
	"Set-Cookie": {
		"_gh_sess=" + strings.Repeat("Zm9v", 90) + "; path=/; secure; HttpOnly; SameSite=Lax",
		"_octo=GH1.1.1234567890.1764759948; Path=/; Domain=github.com; Expires=Fri, 03 Dec 2027 11:05:48 GMT; Secure; SameSite=Lax",
		"logged_in=no; Path=/; Domain=github.com; Expires=Fri, 03 Dec 2027 11:05:48 GMT; HttpOnly; Secure; SameSite=Lax",
	},
	"Accept-Ranges":       {"bytes"},
	"X-Github-Request-Id": {"C0DE:3F2A1:9B8C7D:A1B2C3D:6750E5AC"},
}

func (t cannedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	body := `{"error":"authorization_pending","error_description":"The authorization request is still pending.","error_uri":"https://docs.github.com/developers/apps/authorizing-oauth-apps#error-codes-for-the-device-flow"}`
	if r.URL.Path == "/login/device/code" {
		body = `{"device_code":"3584d83530557fdd1f46af8289938c8ef79f9dc5","user_code":"WDJB-MJHT","verification_uri":"https://github.com/login/device","expires_in":360000000,"interval":1}`
	}
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	h := http.Header{
		"Cache-Control":  {"no-store"},
		"Content-Length": {"999"},
		"Content-Type":   {"application/json; charset=utf-8"},
		"Date":           {"Thu, 03 Dec 2026 11:05:48 GMT"},
	}
	if t.github {
		maps.Copy(h, githubHeaders)
		h["Cache-Control"] = []string{"max-age=0, private, must-revalidate"}
	}
	return &http.Response{StatusCode: 200, Request: r, ContentLength: int64(len(body)), Body: io.NopCloser(strings.NewReader(body)), Header: h}, nil
}

// BenchmarkPollCall is the poll export's call in the Go host with an HTTP
// transport that answers from memory: what BenchmarkPollExchange measures
// for the plugin, less the network and the emulator, so mostly the
// plugin's wasm (state in, polling event, request and answer records
// through Extism memory, state out).
func BenchmarkPollCall(b *testing.B) { benchmarkPollCall(b, cannedTransport{}) }

// BenchmarkPollCallGitHubHeaders is BenchmarkPollCall with the response
// headers github.com sends (sixteen, 2.6 KB) instead of the emulator's
// four: the host passes the plugin only those the engine reads.
func BenchmarkPollCallGitHubHeaders(b *testing.B) {
	benchmarkPollCall(b, cannedTransport{github: true})
}

func benchmarkPollCall(b *testing.B, transport http.RoundTripper) {
	now := time.Now()
	h, err := host.New(host.Options{
		HTTPClient: &http.Client{Transport: transport},
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
