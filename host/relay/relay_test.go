package relay_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deviceflow/deviceflow/host/relay"
	"github.com/deviceflow/deviceflow/plugin/flow"
	"github.com/deviceflow/deviceflow/sdk/deviceflow"
	"github.com/deviceflow/deviceflow/sdk/deviceflow/deviceflowtest"
)

// These tests serve a Relay on loopback in front of the emulator (or a
// fake GitHub where the emulator cannot be made to misbehave) and talk to
// it with real HTTP, as a browser page and the Go SDK would.

const page = "https://app.example.com"

// logBuffer collects the relay's log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// setup starts an emulator and a relay in front of it; cfg's GitHub and
// AllowedOrigins are filled in when empty.
func setup(t *testing.T, emuCfg deviceflowtest.Config, cfg relay.Config) (*deviceflowtest.Server, *httptest.Server, *logBuffer) {
	t.Helper()
	emu := deviceflowtest.NewServer(emuCfg)
	t.Cleanup(func() { emu.Close() })
	if cfg.GitHub == "" {
		cfg.GitHub = emu.URL()
	}
	if cfg.AllowedOrigins == nil {
		cfg.AllowedOrigins = []string{page}
	}
	logs := &logBuffer{}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	rl, err := relay.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(rl)
	t.Cleanup(srv.Close)
	return emu, srv, logs
}

// post sends a JSON POST as a page at origin would ("" for none).
func post(t *testing.T, url, origin string, body any) (*http.Response, map[string]any) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, http.MethodPost, url, origin, "application/json; charset=utf-8", bytes.NewReader(b))
}

func do(t *testing.T, method, url, origin, contentType string, body io.Reader) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return resp, out
}

func preflight(t *testing.T, url, origin, method, headers string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodOptions, url, nil)
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", method)
	if headers != "" {
		req.Header.Set("Access-Control-Request-Headers", headers)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// noSecrets fails the test when the log holds any code or token the
// emulator handed out.
func noSecrets(t *testing.T, emu *deviceflowtest.Server, logs string) {
	t.Helper()
	if logs == "" {
		t.Error("the relay logged nothing")
	}
	for _, g := range emu.Grants() {
		for _, s := range []string{g.DeviceCode, g.UserCode} {
			if s != "" && strings.Contains(logs, s) {
				t.Errorf("the log holds a device or user code %q:\n%s", s, logs)
			}
		}
	}
	tok, ok := emu.LastToken()
	if !ok {
		t.Fatal("the emulator issued no token")
	}
	for _, s := range []string{tok.AccessToken, tok.RefreshToken} {
		if s != "" && strings.Contains(logs, s) {
			t.Errorf("the log holds a token:\n%s", logs)
		}
	}
	if strings.Contains(logs, "ghu_") || strings.Contains(logs, "gho_") || strings.Contains(logs, "ghr_") {
		t.Errorf("the log holds something like a token:\n%s", logs)
	}
}

// TestSDKThroughRelay: the Go SDK signs in through the relay, with a
// GitHub App's expiring token, then refreshes it through the relay.
func TestSDKThroughRelay(t *testing.T) {
	t.Parallel()
	emu, srv, logs := setup(t, deviceflowtest.Config{
		Interval: 50 * time.Millisecond, AutoApprove: 1,
		Clients: []deviceflowtest.Client{{ID: "Iv1.relay", Type: deviceflowtest.GitHubApp, ExpiringTokens: true}},
	}, relay.Config{ClientIDs: []string{"Iv1.relay"}})
	cl, err := deviceflow.New(deviceflow.Config{
		ClientID: "Iv1.relay", ClientType: deviceflow.GitHubApp, BaseURL: srv.URL,
		OnVerification: func(context.Context, deviceflow.Verification) error { return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	first, err := cl.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	issued, _ := emu.LastToken()
	if first.Token != issued.AccessToken || first.RefreshToken == "" {
		t.Fatalf("the SDK got %v, the emulator issued %v", first, issued)
	}
	second, err := cl.Refresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if second.Token == first.Token {
		t.Fatal("refresh through the relay gave the same token")
	}
	if st := emu.Stats(); st.DeviceCode != 1 || st.Refreshes != 1 || st.NotFound != 0 {
		t.Errorf("emulator stats %+v", st)
	}
	if !strings.Contains(logs.String(), "path=/login/oauth/access_token status=200") {
		t.Errorf("no log line for the token request:\n%s", logs)
	}
	noSecrets(t, emu, logs.String())

	// A client id the relay does not serve: the SDK's error says so.
	other, err := deviceflow.New(deviceflow.Config{
		ClientID: "Ov23liOther", BaseURL: srv.URL,
		OnVerification: func(context.Context, deviceflow.Verification) error { return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.Token(ctx); err == nil || !strings.Contains(err.Error(), "this relay does not serve this client id") {
		t.Errorf("another client id through the relay: %v", err)
	}
}

// TestBrowserFlow: what a page does: preflight, device code, polls, token,
// each answer with CORS headers for its origin only.
func TestBrowserFlow(t *testing.T) {
	t.Parallel()
	emu, srv, logs := setup(t, deviceflowtest.Config{Interval: 10 * time.Millisecond}, relay.Config{AllowedOrigins: []string{"https://APP.example.com:443/", "http://localhost:5173"}})

	for _, path := range []string{relay.DeviceCodePath, relay.TokenPath} {
		resp := preflight(t, srv.URL+path, page, "POST", "content-type, accept")
		h := resp.Header
		if resp.StatusCode != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != page ||
			!strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") ||
			!strings.Contains(strings.ToLower(h.Get("Access-Control-Allow-Headers")), "content-type") {
			t.Errorf("preflight %s: %d %v", path, resp.StatusCode, h)
		}
		if h.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("preflight %s allows credentials", path)
		}
		if !strings.Contains(strings.Join(h.Values("Vary"), ","), "Origin") {
			t.Errorf("preflight %s: no Vary: Origin: %v", path, h)
		}
	}
	if resp := preflight(t, srv.URL+relay.DeviceCodePath, "http://localhost:5173", "POST", "content-type"); resp.Header.Get("Access-Control-Allow-Origin") != "http://localhost:5173" {
		t.Errorf("second origin: %v", resp.Header)
	}

	resp, dc := post(t, srv.URL+relay.DeviceCodePath, page, map[string]string{"client_id": "Ov23liPage", "scope": "repo"})
	if resp.StatusCode != 200 || dc["device_code"] == nil {
		t.Fatalf("device code: %d %v", resp.StatusCode, dc)
	}
	checkCORS(t, resp, page)
	if resp.Header.Get("Date") == "" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Errorf("device code answer headers: %v", resp.Header)
	}
	if v := dc["verification_uri"].(string); !strings.HasPrefix(v, emu.URL()) {
		t.Errorf("verification_uri %q is not the emulator's page", v)
	}
	poll := map[string]string{"client_id": "Ov23liPage", "device_code": dc["device_code"].(string), "grant_type": "urn:ietf:params:oauth:grant-type:device_code"}
	time.Sleep(20 * time.Millisecond)
	resp, pending := post(t, srv.URL+relay.TokenPath, page, poll)
	if resp.StatusCode != 200 || pending["error"] != "authorization_pending" {
		t.Fatalf("first poll: %d %v", resp.StatusCode, pending)
	}
	if err := emu.Approve(dc["user_code"].(string)); err != nil {
		t.Fatal(err)
	}
	var tok map[string]any
	for i := 0; i < 50; i++ {
		time.Sleep(20 * time.Millisecond)
		resp, tok = post(t, srv.URL+relay.TokenPath, page, poll)
		if tok["access_token"] != nil {
			break
		}
	}
	if tok["access_token"] == nil {
		t.Fatalf("no token: %v", tok)
	}
	checkCORS(t, resp, page)
	noSecrets(t, emu, logs.String())
}

// checkCORS checks an actual (not preflight) answer to an allowed origin.
func checkCORS(t *testing.T, resp *http.Response, origin string) {
	t.Helper()
	h := resp.Header
	if h.Get("Access-Control-Allow-Origin") != origin || h.Get("Access-Control-Allow-Credentials") != "" {
		t.Errorf("CORS headers: %v", h)
	}
	if !strings.Contains(h.Get("Access-Control-Expose-Headers"), "Date") {
		t.Errorf("Date is not exposed: %v", h)
	}
	if !strings.Contains(strings.Join(h.Values("Vary"), ","), "Origin") {
		t.Errorf("no Vary: Origin: %v", h)
	}
	if h.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", h.Get("Cache-Control"))
	}
}

// TestRefused: requests the relay does not forward get a clear status and
// an OAuth-shaped error, and never reach GitHub.
func TestRefused(t *testing.T) {
	t.Parallel()
	emu, srv, _ := setup(t, deviceflowtest.Config{}, relay.Config{ClientIDs: []string{"Ov23liOK", "Iv1.ok"}, Rate: -1})
	dcBody := `{"client_id":"Ov23liOK"}`
	cases := []struct {
		name, method, path, origin, contentType, body string
		status                                        int
		code                                          string
	}{
		{"other origin", "POST", relay.DeviceCodePath, "https://evil.example", "application/json", dcBody, 403, "origin_not_allowed"},
		{"origin with other port", "POST", relay.DeviceCodePath, "https://app.example.com:8443", "application/json", dcBody, 403, "origin_not_allowed"},
		{"origin over http", "POST", relay.DeviceCodePath, "http://app.example.com", "application/json", dcBody, 403, "origin_not_allowed"},
		{"null origin", "POST", relay.DeviceCodePath, "null", "application/json", dcBody, 403, "origin_not_allowed"},
		{"preflight from other origin", "OPTIONS", relay.TokenPath, "https://evil.example", "", "", 403, "origin_not_allowed"},
		{"API", "GET", "/user", page, "", "", 404, "not_found"},
		{"API v3", "GET", "/api/v3/user", page, "", "", 404, "not_found"},
		{"device page", "GET", "/login/device", page, "", "", 404, "not_found"},
		{"device page POST", "POST", "/login/device", page, "application/x-www-form-urlencoded", "user_code=ABCD-1234", 404, "not_found"},
		{"web flow", "GET", "/login/oauth/authorize", page, "", "", 404, "not_found"},
		{"trailing slash", "POST", relay.DeviceCodePath + "/", page, "application/json", dcBody, 404, "not_found"},
		{"root", "GET", "/", "", "", "", 404, "not_found"},
		{"GET device code", "GET", relay.DeviceCodePath, page, "", "", 405, "method_not_allowed"},
		{"PUT token", "PUT", relay.TokenPath, page, "application/json", "{}", 405, "method_not_allowed"},
		{"query", "POST", relay.DeviceCodePath + "?client_id=Ov23liOK", page, "application/json", dcBody, 400, "invalid_request"},
		{"text/plain", "POST", relay.DeviceCodePath, page, "text/plain", dcBody, 415, "unsupported_media_type"},
		{"no content type", "POST", relay.DeviceCodePath, page, "", dcBody, 415, "unsupported_media_type"},
		{"not JSON", "POST", relay.DeviceCodePath, page, "application/json", `client_id=Ov23liOK`, 400, "invalid_request"},
		{"two JSON values", "POST", relay.DeviceCodePath, page, "application/json", dcBody + dcBody, 400, "invalid_request"},
		{"duplicate JSON key", "POST", relay.TokenPath, page, "application/json", `{"client_id":"Ov23liOK","grant_type":"authorization_code","grant_type":"refresh_token"}`, 400, "invalid_request"},
		{"duplicate form key", "POST", relay.TokenPath, page, "application/x-www-form-urlencoded", "client_id=Ov23liOK&grant_type=refresh_token&grant_type=authorization_code", 400, "invalid_request"},
		{"authorization code grant", "POST", relay.TokenPath, page, "application/json", `{"client_id":"Ov23liOK","grant_type":"authorization_code","code":"x"}`, 400, "unsupported_grant_type"},
		{"no grant type", "POST", relay.TokenPath, page, "application/json", `{"client_id":"Ov23liOK","device_code":"x"}`, 400, "unsupported_grant_type"},
		{"client credentials", "POST", relay.TokenPath, page, "application/x-www-form-urlencoded", "client_id=Ov23liOK&grant_type=client_credentials", 400, "unsupported_grant_type"},
		{"grant type not a string", "POST", relay.TokenPath, page, "application/json", `{"client_id":"Ov23liOK","grant_type":["refresh_token"]}`, 400, "invalid_request"},
		{"client secret", "POST", relay.TokenPath, page, "application/json", `{"client_id":"Ov23liOK","client_secret":"s","grant_type":"refresh_token","refresh_token":"r"}`, 400, "invalid_request"},
		{"other client id", "POST", relay.DeviceCodePath, page, "application/json", `{"client_id":"Ov23liOther"}`, 400, "unauthorized_client"},
		{"no client id", "POST", relay.DeviceCodePath, page, "application/json", `{}`, 400, "unauthorized_client"},
	}
	for _, c := range cases {
		var body io.Reader
		if c.body != "" {
			body = strings.NewReader(c.body)
		}
		resp, out := do(t, c.method, srv.URL+c.path, c.origin, c.contentType, body)
		if resp.StatusCode != c.status || out["error"] != c.code || out["error_description"] == "" {
			t.Errorf("%s: %d %v, want %d %s", c.name, resp.StatusCode, out, c.status, c.code)
		}
		allowed := c.origin == page
		if got := resp.Header.Get("Access-Control-Allow-Origin"); (got != "") != allowed || (allowed && got != page) {
			t.Errorf("%s: Access-Control-Allow-Origin %q", c.name, got)
		}
		if c.status == 405 && resp.Header.Get("Allow") != "POST, OPTIONS" {
			t.Errorf("%s: Allow %q", c.name, resp.Header.Get("Allow"))
		}
		if resp.Header.Get("Cache-Control") != "no-store" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Errorf("%s: headers %v", c.name, resp.Header)
		}
	}

	// Two Origin headers: neither is believed.
	req, _ := http.NewRequest("POST", srv.URL+relay.DeviceCodePath, strings.NewReader(dcBody))
	req.Header["Origin"] = []string{page, "https://evil.example"}
	req.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	} else if resp.Body.Close(); resp.StatusCode != 403 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("two Origin headers: %d %v", resp.StatusCode, resp.Header)
	}

	// Preflights that ask for what is not relayed.
	if resp := preflight(t, srv.URL+relay.TokenPath, page, "PUT", ""); resp.StatusCode != 405 {
		t.Errorf("preflight for PUT: %d", resp.StatusCode)
	}
	if resp := preflight(t, srv.URL+relay.TokenPath, page, "POST", "content-type, authorization"); resp.StatusCode != 403 || resp.Header.Get("Access-Control-Allow-Headers") != "" {
		t.Errorf("preflight asking for Authorization: %d %v", resp.StatusCode, resp.Header)
	}
	if resp := preflight(t, srv.URL+"/user", page, "GET", ""); resp.StatusCode != 404 {
		t.Errorf("preflight for /user: %d", resp.StatusCode)
	}

	// Paths as a client may send them without cleaning: dot segments,
	// encoded slashes, a double slash.
	for _, path := range []string{"/login/device/../device/code", "/login/device/code/..", "/login/oauth/access_token/../../../user", "/login%2Fdevice%2Fcode", "/%6Cogin/device/code", "//login/device/code", "/login/device/code%00", "/../login/device/code"} {
		status := rawPost(t, srv.Listener.Addr().String(), path, dcBody)
		if status != 404 && status != 400 {
			t.Errorf("raw path %q: %d, want 404 (or 400 from the server)", path, status)
		}
	}

	if st := emu.Stats(); st != (deviceflowtest.Stats{}) {
		t.Errorf("refused requests reached the emulator: %+v", st)
	}
}

// rawPost sends a request line as given, with no client-side cleaning,
// and returns the status.
func rawPost(t *testing.T, addr, path, body string) int {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nOrigin: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", path, addr, page, len(body), body)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestOversizedBody: bodies over the cap get 413, whether their length is
// declared or they are chunked, and never reach GitHub.
func TestOversizedBody(t *testing.T) {
	t.Parallel()
	emu, srv, _ := setup(t, deviceflowtest.Config{}, relay.Config{MaxRequestBytes: 1024})
	big := `{"client_id":"` + strings.Repeat("x", 4096) + `"}`
	resp, out := do(t, "POST", srv.URL+relay.DeviceCodePath, page, "application/json", strings.NewReader(big))
	if resp.StatusCode != 413 || out["error"] != "request_too_large" {
		t.Errorf("declared length: %d %v", resp.StatusCode, out)
	}
	// An io.Reader of unknown length goes chunked.
	resp, out = do(t, "POST", srv.URL+relay.DeviceCodePath, page, "application/json", io.MultiReader(strings.NewReader(big), strings.NewReader(strings.Repeat(" ", 1<<20))))
	if resp.StatusCode != 413 || out["error"] != "request_too_large" {
		t.Errorf("chunked: %d %v", resp.StatusCode, out)
	}
	if resp, _ := post(t, srv.URL+relay.DeviceCodePath, page, map[string]string{"client_id": "Ov23liSmall"}); resp.StatusCode != 200 {
		t.Errorf("a small body: %d", resp.StatusCode)
	}
	if st := emu.Stats(); st.DeviceCode != 1 {
		t.Errorf("emulator saw %d device-code requests, want 1", st.DeviceCode)
	}
}

// fakeGitHub serves handler on loopback, as GitHub would be reached.
func fakeGitHub(t *testing.T, handler http.HandlerFunc) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(handler)
	t.Cleanup(s.Close)
	return s
}

func newRelay(t *testing.T, cfg relay.Config) *httptest.Server {
	t.Helper()
	if cfg.AllowedOrigins == nil {
		cfg.AllowedOrigins = []string{page}
	}
	rl, err := relay.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(rl)
	t.Cleanup(srv.Close)
	return srv
}

// TestSlowUpstream: a GitHub that does not answer is cut at the time cap
// with 504; one that answers too much gets 502; a redirect is not followed.
func TestSlowUpstream(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	slow := fakeGitHub(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	srv := newRelay(t, relay.Config{GitHub: slow.URL, UpstreamTimeout: 300 * time.Millisecond})
	start := time.Now()
	resp, out := post(t, srv.URL+relay.DeviceCodePath, page, map[string]string{"client_id": "Ov23li"})
	took := time.Since(start)
	if resp.StatusCode != 504 || out["error"] != "upstream_timeout" {
		t.Errorf("slow GitHub: %d %v", resp.StatusCode, out)
	}
	if took < 300*time.Millisecond || took > 3*time.Second {
		t.Errorf("cut after %s, want about 300ms", took)
	}
	checkCORS(t, resp, page)

	// Slow in the middle of the body.
	dribble := fakeGitHub(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(200)
		_, _ = io.WriteString(w, `{"device_code":`)
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	srv = newRelay(t, relay.Config{GitHub: dribble.URL, UpstreamTimeout: 300 * time.Millisecond})
	if resp, out := post(t, srv.URL+relay.DeviceCodePath, page, map[string]string{"client_id": "Ov23li"}); resp.StatusCode != 504 {
		t.Errorf("GitHub stalling in its body: %d %v", resp.StatusCode, out)
	}

	huge := fakeGitHub(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"x":"`+strings.Repeat("a", 1<<20)+`"}`)
	})
	srv = newRelay(t, relay.Config{GitHub: huge.URL})
	if resp, out := post(t, srv.URL+relay.DeviceCodePath, page, map[string]string{"client_id": "Ov23li"}); resp.StatusCode != 502 || out["error"] != "bad_gateway" {
		t.Errorf("huge answer: %d %v", resp.StatusCode, out)
	}

	redirect := fakeGitHub(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://evil.example/steal", http.StatusFound)
	})
	srv = newRelay(t, relay.Config{GitHub: redirect.URL})
	if resp, out := post(t, srv.URL+relay.DeviceCodePath, page, map[string]string{"client_id": "Ov23li"}); resp.StatusCode != 502 || resp.Header.Get("Location") != "" {
		t.Errorf("redirect: %d %v %v", resp.StatusCode, out, resp.Header)
	}

	// Nobody listening: 502.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gone := "http://" + ln.Addr().String()
	ln.Close()
	srv = newRelay(t, relay.Config{GitHub: gone})
	if resp, out := post(t, srv.URL+relay.DeviceCodePath, page, map[string]string{"client_id": "Ov23li"}); resp.StatusCode != 502 || out["error"] != "bad_gateway" {
		t.Errorf("GitHub down: %d %v", resp.StatusCode, out)
	}
}

// TestHeaders: GitHub gets only Content-Type, Accept and User-Agent from
// the client, nothing that identifies it; the client gets none of GitHub's
// cookies or hop-by-hop headers.
func TestHeaders(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got http.Header
	var gotURL string
	fake := fakeGitHub(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got, gotURL = r.Header.Clone(), r.URL.String()
		mu.Unlock()
		h := w.Header()
		h.Set("Set-Cookie", "_gh_sess=secret; HttpOnly")
		h.Set("X-Hop", "1")
		h.Set("Proxy-Authenticate", "Basic")
		h.Set("Strict-Transport-Security", "max-age=1")
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Cache-Control", "max-age=3600, public")
		h.Set("X-GitHub-Request-Id", "ABCD:1234")
		h.Set("Retry-After", "3")
		h.Set("Content-Type", "application/json; charset=utf-8")
		_, _ = io.WriteString(w, `{"error":"authorization_pending"}`)
	})
	srv := newRelay(t, relay.Config{GitHub: fake.URL})
	req, _ := http.NewRequest("POST", srv.URL+relay.TokenPath, strings.NewReader(`{"client_id":"Ov23li","device_code":"d","grant_type":"urn:ietf:params:oauth:grant-type:device_code"}`))
	for k, v := range map[string]string{
		"Origin": page, "Content-Type": "application/json", "Accept": "application/json", "User-Agent": "page/1.0",
		"Cookie": "session=abc", "Authorization": "token gho_secret", "X-Forwarded-For": "203.0.113.9",
		"Referer": page + "/signin", "X-Requested-With": "XMLHttpRequest", "Forwarded": "for=203.0.113.9",
		"Connection": "X-Custom", "X-Custom": "1", "Sec-Fetch-Site": "cross-site",
	} {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	mu.Lock()
	if gotURL != relay.TokenPath {
		t.Errorf("GitHub was asked for %q", gotURL)
	}
	for k := range got {
		switch k {
		case "Content-Type", "Accept", "User-Agent", "Content-Length", "Accept-Encoding":
		default:
			t.Errorf("GitHub got header %s: %q", k, got.Get(k))
		}
	}
	if got.Get("User-Agent") != "page/1.0" || got.Get("Accept") != "application/json" {
		t.Errorf("forwarded headers: %v", got)
	}
	for _, k := range []string{"Set-Cookie", "X-Hop", "Proxy-Authenticate", "Strict-Transport-Security"} {
		if v := resp.Header.Get(k); v != "" {
			t.Errorf("the client got %s: %q", k, v)
		}
	}
	if resp.Header.Get("Access-Control-Allow-Origin") != page || resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("X-Github-Request-Id") != "ABCD:1234" {
		t.Errorf("answer headers: %v", resp.Header)
	}
	// The headers the engine reads reach the page, and its script may read
	// them (CORS exposes those not safelisted).
	if resp.Header.Get("Retry-After") != "3" || resp.Header.Get("Date") == "" {
		t.Errorf("Retry-After %q, Date %q: the engine reads both", resp.Header.Get("Retry-After"), resp.Header.Get("Date"))
	}
	exposed := resp.Header.Get("Access-Control-Expose-Headers")
	for _, name := range flow.ResponseHeaders() {
		if name != "content-type" && name != "cache-control" && !strings.Contains(strings.ToLower(exposed), name) {
			t.Errorf("Access-Control-Expose-Headers %q leaves out %s, which the engine reads", exposed, name)
		}
	}
	mu.Unlock()

	// Without a User-Agent of its own the client is named as the relay.
	req, _ = http.NewRequest("POST", srv.URL+relay.DeviceCodePath, strings.NewReader(`{"client_id":"Ov23li"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header["User-Agent"] = nil // Go's client then sends none
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	mu.Lock()
	defer mu.Unlock()
	if resp.StatusCode != 200 || got.Get("User-Agent") != relay.DefaultUserAgent {
		t.Errorf("User-Agent %q, want %q", got.Get("User-Agent"), relay.DefaultUserAgent)
	}
}

// TestEndpoints: the GitHub a relay points at is the engine's reading of
// the base URL: github.com, GitHub Enterprise Server, GHE.com.
func TestEndpoints(t *testing.T) {
	t.Parallel()
	for base, want := range map[string]string{
		"":                                "https://github.com",
		"https://github.com":              "https://github.com",
		"https://api.github.com":          "https://github.com",
		"https://ghe.example.com":         "https://ghe.example.com",
		"https://ghe.example.com/api/v3/": "https://ghe.example.com",
		"https://octo.ghe.com":            "https://octo.ghe.com",
		"https://api.octo.ghe.com":        "https://octo.ghe.com",
	} {
		var mu sync.Mutex
		var asked []string
		transport := roundTripper(func(r *http.Request) (*http.Response, error) {
			mu.Lock()
			asked = append(asked, r.URL.String())
			mu.Unlock()
			return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(strings.NewReader(`{"error":"authorization_pending"}`)), Request: r}, nil
		})
		rl, err := relay.New(relay.Config{GitHub: base, Transport: transport})
		if err != nil {
			t.Fatalf("%q: %v", base, err)
		}
		if got := rl.Endpoints().Base; got != want {
			t.Errorf("%q: base %q, want %q", base, got, want)
		}
		for _, path := range []string{relay.DeviceCodePath, relay.TokenPath} {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest("POST", path, strings.NewReader(`{"client_id":"Iv1.x","grant_type":"refresh_token","refresh_token":"r"}`))
			req.Header.Set("Content-Type", "application/json")
			rl.ServeHTTP(rec, req)
			if rec.Code != 200 {
				t.Errorf("%q %s: %d %s", base, path, rec.Code, rec.Body)
			}
		}
		if len(asked) != 2 || asked[0] != want+relay.DeviceCodePath || asked[1] != want+relay.TokenPath {
			t.Errorf("%q: asked %v", base, asked)
		}
	}
	for _, bad := range []string{"http://github.com", "ftp://ghe.example.com", "https://user:pw@github.com", "https://github.com/login", "https://github.com?x=1", "github.com"} {
		if _, err := relay.New(relay.Config{GitHub: bad}); err == nil {
			t.Errorf("GitHub %q accepted", bad)
		}
	}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestConfigRefused: configurations that would open the relay too wide.
func TestConfigRefused(t *testing.T) {
	t.Parallel()
	for _, cfg := range []relay.Config{
		{AllowedOrigins: []string{"*"}},
		{AllowedOrigins: []string{"null"}},
		{AllowedOrigins: []string{"http://app.example.com"}},
		{AllowedOrigins: []string{"https://app.example.com/path"}},
		{AllowedOrigins: []string{"app.example.com"}},
		{AllowedOrigins: []string{"https://user@app.example.com"}},
		{ClientIDs: []string{"Ov23 li"}},
		{Burst: -1},
		{UpstreamTimeout: -time.Second},
		{TrustedProxies: []netip.Prefix{{}}},
	} {
		if _, err := relay.New(cfg); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
}

// TestCanonicalOrigin: configured origins are compared in the form
// browsers send.
func TestCanonicalOrigin(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://App.Example.com":      "https://app.example.com",
		"https://app.example.com/":     "https://app.example.com",
		"https://app.example.com:443":  "https://app.example.com",
		"https://app.example.com:8443": "https://app.example.com:8443",
		"http://localhost:5173":        "http://localhost:5173",
		"http://127.0.0.1:80":          "http://127.0.0.1",
		"http://[::1]:3000":            "http://[::1]:3000",
	} {
		got, err := relay.CanonicalOrigin(in)
		if err != nil || got != want {
			t.Errorf("CanonicalOrigin(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// TestRateLimit: a client address gets Burst requests at once, then 429
// with Retry-After until its bucket refills; other addresses are not held
// back; X-Forwarded-For counts only from a trusted proxy.
func TestRateLimit(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }

	emu, srv, _ := setup(t, deviceflowtest.Config{}, relay.Config{Rate: 0.5, Burst: 3, Now: clock})
	send := func(xff string) *http.Response {
		req, _ := http.NewRequest("POST", srv.URL+relay.DeviceCodePath, strings.NewReader(`{"client_id":"Ov23liRate"}`))
		req.Header.Set("Origin", page)
		req.Header.Set("Content-Type", "application/json")
		if xff != "" {
			req.Header.Set("X-Forwarded-For", xff)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for i := 0; i < 3; i++ {
		if resp := send(fmt.Sprintf("203.0.113.%d", i)); resp.StatusCode != 200 {
			t.Fatalf("request %d: %d", i, resp.StatusCode)
		}
	}
	resp := send("203.0.113.99") // not trusted: the same client
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "2" {
		t.Fatalf("over the burst: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	checkCORS(t, resp, page)
	if !strings.Contains(resp.Header.Get("Access-Control-Expose-Headers"), "Retry-After") {
		t.Errorf("Retry-After is not exposed: %v", resp.Header)
	}
	advance(time.Second)
	if resp := send(""); resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "1" {
		t.Errorf("half a token later: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	advance(time.Second)
	if resp := send(""); resp.StatusCode != 200 {
		t.Errorf("after Retry-After: %d", resp.StatusCode)
	}
	if st := emu.Stats(); st.DeviceCode != 4 {
		t.Errorf("the emulator saw %d requests, want the 4 allowed", st.DeviceCode)
	}

	// Behind a trusted proxy (the test's loopback), each forwarded client
	// has its own bucket; a forged entry left of the proxy's counts not.
	_, srv, _ = setup(t, deviceflowtest.Config{}, relay.Config{Rate: 0.5, Burst: 1, Now: clock, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}})
	for _, c := range []struct {
		xff    string
		status int
	}{
		{"198.51.100.1", 200},
		{"198.51.100.2", 200},
		{"198.51.100.1", 429},
		{"10.9.9.9, 198.51.100.1", 429},  // forged left entry: still .1
		{"198.51.100.3, 127.0.0.5", 200}, // through two trusted proxies
		{"2001:db8::1", 200},             //
		{"2001:db8::2", 429},             // same /64
		{"2001:db8:0:1::1", 200},         // another /64
		{"garbage", 200},                 // unreadable: the proxy itself
		{"", 429},                        // the proxy again
	} {
		if resp := send(c.xff); resp.StatusCode != c.status {
			t.Errorf("X-Forwarded-For %q: %d, want %d", c.xff, resp.StatusCode, c.status)
		}
	}
}

// TestConcurrentClients: many clients sign in at once through one relay
// (run with -race).
func TestConcurrentClients(t *testing.T) {
	t.Parallel()
	emu, srv, logs := setup(t, deviceflowtest.Config{Interval: 10 * time.Millisecond, AutoApprove: 2, PollTolerance: 5 * time.Millisecond}, relay.Config{Rate: -1})
	const clients = 40
	var wg sync.WaitGroup
	tokens := make(chan string, clients)
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			id := fmt.Sprintf("Ov23liClient%d", i)
			body, _ := json.Marshal(map[string]string{"client_id": id})
			dc, err := postQuiet(srv.URL+relay.DeviceCodePath, body)
			if err != nil {
				t.Error(err)
				return
			}
			poll, _ := json.Marshal(map[string]string{"client_id": id, "device_code": dc["device_code"].(string), "grant_type": "urn:ietf:params:oauth:grant-type:device_code"})
			for j := 0; j < 200; j++ {
				time.Sleep(15 * time.Millisecond)
				out, err := postQuiet(srv.URL+relay.TokenPath, poll)
				if err != nil {
					t.Error(err)
					return
				}
				if tok, ok := out["access_token"].(string); ok {
					tokens <- tok
					return
				}
				if e := out["error"]; e != "authorization_pending" && e != "slow_down" {
					t.Errorf("client %d: %v", i, out)
					return
				}
			}
			t.Errorf("client %d got no token", i)
		}(i)
	}
	wg.Wait()
	close(tokens)
	seen := map[string]bool{}
	for tok := range tokens {
		seen[tok] = true
	}
	if len(seen) != clients {
		t.Errorf("%d distinct tokens, want %d", len(seen), clients)
	}
	noSecrets(t, emu, logs.String())
}

func postQuiet(u string, body []byte) (map[string]any, error) {
	req, _ := http.NewRequest("POST", u, bytes.NewReader(body))
	req.Header.Set("Origin", page)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("%d %q: %v", resp.StatusCode, raw, err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != page {
		return nil, fmt.Errorf("%s: %d %v", (&url.URL{Path: req.URL.Path}).String(), resp.StatusCode, out)
	}
	return out, nil
}

// TestSlowClientThenSlowGitHub: the time cap on reading a client's body
// does not outlive the body: a client that took half the cap to send it
// still gets GitHub's answer when GitHub takes more than the other half.
func TestSlowClientThenSlowGitHub(t *testing.T) {
	t.Parallel()
	fake := fakeGitHub(t, func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(1200 * time.Millisecond)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"error":"authorization_pending"}`)
	})
	srv := newRelay(t, relay.Config{GitHub: fake.URL, UpstreamTimeout: 2 * time.Second})
	pr, pw := io.Pipe()
	go func() {
		_, _ = io.WriteString(pw, `{"client_id":"Ov23li",`)
		time.Sleep(1200 * time.Millisecond)
		_, _ = io.WriteString(pw, `"device_code":"d","grant_type":"refresh_token"}`)
		pw.Close()
	}()
	resp, out := do(t, "POST", srv.URL+relay.TokenPath, page, "application/json", pr)
	if resp.StatusCode != 200 || out["error"] != "authorization_pending" {
		t.Errorf("%d %v, want GitHub's answer", resp.StatusCode, out)
	}
}
