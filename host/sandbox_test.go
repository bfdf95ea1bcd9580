package host

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deviceflow/deviceflow/plugin/flow"
	"github.com/deviceflow/deviceflow/sdk/deviceflow/deviceflowtest"
)

// The sandbox, exercised through the real plugin against real servers on
// loopback.

// TestSandboxAllowList: a base URL other than the host's configured one is
// refused by the host, and the other server never hears of it.
func TestSandboxAllowList(t *testing.T) {
	t.Parallel()
	allowed := startGitHub(t, deviceflowtest.Config{AutoApprove: 1}, nil)
	other := startGitHub(t, deviceflowtest.Config{AutoApprove: 1}, nil)
	h := testHost(t, allowed, nil)
	_, err := h.Call(context.Background(), "authenticate", input(other.URL))
	e := wantCode(t, err, "http_denied")
	if !strings.Contains(e.Message, "not in the allow-list") {
		t.Errorf("message %q", e.Message)
	}
	if n := other.Emu.Stats().DeviceCode; n != 0 {
		t.Fatalf("the other server got %d requests", n)
	}
	// The configured one works.
	if _, err := h.Call(context.Background(), "authenticate", input(allowed.URL)); err != nil {
		t.Fatal(err)
	}
}

// TestSandboxPolicy checks each rule of the host's URL check, on requests
// that never reach the network: a transport that records dials proves it.
func TestSandboxPolicy(t *testing.T) {
	t.Parallel()
	var dials atomic.Int32
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			dials.Add(1)
			return nil, &net.OpError{Op: "dial", Err: net.UnknownNetworkError("test")}
		},
	}}
	hosts := map[string]Options{
		"default": {HTTPClient: client},
		"ghes":    {BaseURL: "https://ghe.example.com", HTTPClient: client},
		// An allow-list given outright: the https rule still holds.
		"plainhttp": {AllowedHosts: []string{"ghe.example.com"}, HTTPClient: client},
	}
	cases := []struct {
		host, url, why string
	}{
		{"default", "https://evil.example.com/login/device/code", "not in the allow-list"},
		{"default", "https://github.com.evil.example/login/device/code", "not in the allow-list"},
		{"default", "http://github.com/login/device/code", "plain http is allowed only for loopback"},
		{"default", "ftp://github.com/x", "scheme ftp"},
		{"default", "https://127.0.0.1/login/device/code", "not in the allow-list"},
		{"default", "/login/device/code", "not an absolute URL"},
		{"ghes", "https://api.github.com/user", "not in the allow-list"},
		{"ghes", "https://ghe.example.com:8443/api/v3/user", "not in the allow-list"},
		{"plainhttp", "http://ghe.example.com/login/device/code", "plain http is allowed only for loopback"},
	}
	for _, c := range cases {
		h, err := New(hosts[c.host])
		if err != nil {
			t.Fatal(err)
		}
		resp := h.doHTTP(context.Background(), &httpRequest{Method: "POST", URL: c.url})
		if resp.Error == nil || resp.Error.Kind != "denied" || !strings.Contains(resp.Error.Message, c.why) {
			t.Errorf("%s %s: %+v, want denied: %s", c.host, c.url, resp.Error, c.why)
		}
	}
	for host, allowed := range map[string][]string{
		"default": {"https://github.com/login/device/code", "https://api.github.com/user", "https://GitHub.com/login/oauth/access_token"},
		"ghes":    {"https://ghe.example.com/login/device/code", "https://ghe.example.com/api/v3/user"},
	} {
		h, _ := New(hosts[host])
		for _, u := range allowed {
			if err := h.check(u); err != nil {
				t.Errorf("%s: %s refused: %v", host, u, err)
			}
		}
	}
	if n := dials.Load(); n != 0 {
		t.Errorf("%d connections attempted for refused requests", n)
	}
}

// TestSandboxRefusesBadBaseURLs: a base URL the engine refuses (plain http
// off loopback, user info, a port out of range, another scheme) is refused
// when the host is made, with the engine's message, before anything runs.
func TestSandboxRefusesBadBaseURLs(t *testing.T) {
	t.Parallel()
	for _, base := range []string{"http://ghe.example.com", "https://user:pw@ghe.example.com", "https://ghe.example.com:99999", "ftp://ghe.example.com", "javascript:alert(1)"} {
		_, err := New(Options{BaseURL: base})
		if e := wantCode(t, err, "invalid_input"); !strings.Contains(e.Message, "baseUrl") {
			t.Errorf("%s: message %q", base, e.Message)
		}
	}
}

// TestSandboxNoRedirects: a redirect, even to an allowed host, is handed to
// the plugin as it is and never followed.
func TestSandboxNoRedirects(t *testing.T) {
	t.Parallel()
	target := startGitHub(t, deviceflowtest.Config{AutoApprove: 1}, nil)
	g := startGitHub(t, deviceflowtest.Config{AutoApprove: 1}, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, target.URL+r.URL.Path, http.StatusTemporaryRedirect)
		})
	})
	h := testHost(t, g, func(o *Options) {
		o.AllowedHosts = []string{strings.TrimPrefix(g.URL, "http://"), strings.TrimPrefix(target.URL, "http://")}
	})
	_, err := h.Call(context.Background(), "authenticate", input(g.URL))
	e, ok := err.(*Error)
	if !ok || e.Status != http.StatusTemporaryRedirect {
		t.Fatalf("got %v, want an error reporting HTTP 307", err)
	}
	if n := target.Emu.Stats().DeviceCode; n != 0 {
		t.Fatalf("the redirect was followed (%d requests)", n)
	}
}

// TestSandboxPassesOnlyTheHeadersRead: of a response's headers only those
// the engine reads (flow.ReadsResponseHeader) reach the plugin, joined when
// repeated; cookies and the rest stay in the host. Through the real plugin,
// a Retry-After still paces the flow.
func TestSandboxPassesOnlyTheHeadersRead(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Set-Cookie", "_gh_sess=secret; HttpOnly")
		w.Header().Set("Content-Security-Policy", "default-src 'none'")
		w.Header().Set("X-GitHub-Request-Id", "C0DE:1")
		w.Header().Add("X-OAuth-Scopes", "repo")
		w.Header().Add("X-OAuth-Scopes", "gist")
		w.Header().Set("Retry-After", "3")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	h, err := New(Options{BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	resp := h.doHTTP(context.Background(), &httpRequest{Method: "GET", URL: srv.URL + "/user"})
	if resp.Error != nil {
		t.Fatal(resp.Error)
	}
	want := map[string]string{"content-type": "application/json", "retry-after": "3", "x-oauth-scopes": "repo, gist"}
	for k, v := range want {
		if resp.Headers[k] != v {
			t.Errorf("header %s = %q, want %q", k, resp.Headers[k], v)
		}
	}
	for k := range resp.Headers {
		if _, ok := want[k]; !ok && k != "date" {
			t.Errorf("header %s reached the plugin", k)
		}
	}

	// The whole flow: a 429 with Retry-After: 1 on the first poll, then
	// the approval; the next poll waits the second out (the host's sleeps
	// advance the server's fake clock).
	var polls atomic.Int32
	g := startGitHub(t, deviceflowtest.Config{AutoApprove: 2, Interval: 10 * time.Millisecond}, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Add("Set-Cookie", "logged_in=no")
			if r.URL.Path == "/login/oauth/access_token" && polls.Add(1) == 1 {
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(http.StatusTooManyRequests)
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	started := g.Clock.Now()
	if _, err := testHost(t, g, nil).Call(context.Background(), "authenticate", input(g.URL)); err != nil {
		t.Fatal(err)
	}
	if waited := g.Clock.Now().Sub(started); waited < time.Second {
		t.Errorf("signed in after %v of the server's clock: the Retry-After of 1 s was not honoured", waited)
	}
}

// TestSandboxResponseCap: with the default cap (1 MiB) a body one byte
// larger is a network failure; with a smaller cap, a body of exactly the
// cap reaches the plugin. (A 1 MiB body costs the plugin about half a
// second to parse, so the boundary is checked at 64 KiB.)
func TestSandboxResponseCap(t *testing.T) {
	t.Parallel()
	var size atomic.Int64
	g := startGitHub(t, deviceflowtest.Config{}, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(strings.Repeat(" ", int(size.Load()))))
		})
	})
	h := testHost(t, g, nil)
	size.Store(1<<20 + 1)
	_, err := h.Call(context.Background(), "authenticate", input(g.URL))
	if e := wantCode(t, err, "network"); !strings.Contains(e.Message, "larger than the host's limit") {
		t.Errorf("message %q", e.Message)
	}
	small := testHost(t, g, func(o *Options) { o.MaxResponseBytes = 64 << 10 })
	size.Store(64 << 10)
	_, err = small.Call(context.Background(), "authenticate", input(g.URL))
	wantCode(t, err, "invalid_response") // whitespace is no device code
	size.Add(1)
	_, err = small.Call(context.Background(), "authenticate", input(g.URL))
	wantCode(t, err, "network")
}

// TestSandboxRequestTimeout: a poll that outlives the per-request timeout
// is a timeout the plugin backs off from, and the flow then completes.
func TestSandboxRequestTimeout(t *testing.T) {
	t.Parallel()
	var stalled atomic.Bool
	g := startGitHub(t, deviceflowtest.Config{AutoApprove: 1}, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/login/oauth/access_token" && stalled.CompareAndSwap(false, true) {
				// Read the body, so that the server notices when the
				// client hangs up.
				io.Copy(io.Discard, r.Body)
				select {
				case <-r.Context().Done():
				case <-time.After(30 * time.Second):
				}
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	var rec recorder
	h := testHost(t, g, func(o *Options) {
		o.RequestTimeout = 100 * time.Millisecond
		o.OnEvent = rec.on
	})
	start := time.Now()
	var res authResult
	if err := h.CallJSON(context.Background(), "authenticate", rawJSON(input(g.URL)), &res); err != nil || res.Token == "" {
		t.Fatalf("%+v, %v", res, err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %v", d)
	}
	ev, ok := rec.find("backoff")
	if !ok || ev["reason"] != "timeout" {
		t.Fatalf("events %v; backoff %v", rec.types(), ev)
	}
}

// TestSandboxMemoryCap: each instance's memory is capped at
// MaxMemoryPages (64 MiB): it grows up to the cap and no further.
func TestSandboxMemoryCap(t *testing.T) {
	t.Parallel()
	h, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())
	in, err := h.pool.get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close(context.Background())
	mem := in.Memory()
	if max, _ := mem.Definition().Max(); max != MaxMemoryPages {
		t.Errorf("memory limit %d pages, want %d", max, MaxMemoryPages)
	}
	pages := mem.Size() / 65536
	if _, ok := mem.Grow(MaxMemoryPages - pages + 1); ok {
		t.Fatal("the memory grew past the cap")
	}
	if _, ok := mem.Grow(MaxMemoryPages - pages); !ok {
		t.Fatal("the memory cannot grow to the cap")
	}
}

// TestSandboxInputCap: an input over MaxInputBytes is refused before it
// reaches the plugin.
func TestSandboxInputCap(t *testing.T) {
	t.Parallel()
	h, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())
	huge := []byte(`{"clientId":"` + strings.Repeat("x", MaxInputBytes) + `"}`)
	_, err = h.Call(context.Background(), "authenticate", huge)
	if e := wantCode(t, err, "invalid_input"); !strings.Contains(e.Message, "1 MiB") {
		t.Errorf("message %q", e.Message)
	}
}

// TestUserAgentGoverns: the application's User-Agent replaces the plugin's
// on every request; without one the plugin's own is sent.
func TestUserAgentGoverns(t *testing.T) {
	t.Parallel()
	for _, ua := range []string{"", "my-cli/1.2 (+https://example.com)"} {
		var got atomic.Value
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got.Store(r.Header.Get("User-Agent"))
			w.WriteHeader(500)
		}))
		h, err := New(Options{BaseURL: srv.URL, UserAgent: ua})
		if err != nil {
			t.Fatal(err)
		}
		h.Call(context.Background(), "authenticate", input(srv.URL))
		want := ua
		if want == "" {
			want = "deviceflow/" + flow.Version
		}
		if g, _ := got.Load().(string); g != want {
			t.Errorf("UserAgent %q: the server saw %q, want %q", ua, g, want)
		}
		h.Close(context.Background())
		srv.Close()
	}
}
