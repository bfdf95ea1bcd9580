// Package relay is the CORS relay that lets a web page run GitHub's OAuth
// device flow. GitHub's OAuth endpoints send no CORS headers (its REST API
// does), so a browser cannot read their answers; a Relay stands in front
// of them, forwards only the device flow's two POSTs and answers CORS for
// the origins it is configured with:
//
//	POST /login/device/code          the device-code request
//	POST /login/oauth/access_token   the device-code grant (polling) and
//	                                 the refresh-token grant
//
// Everything else is refused: other paths (404), other methods (405),
// other origins (403), other grant types, a client secret or a client id
// not configured (400), a body that is not JSON or form-encoded
// (415), too large (413), or sent too often from one address (429 with
// Retry-After). The relay keeps no state beyond the rate limiter's buckets,
// logs no body, code or token, sends GitHub only Content-Type, Accept and
// User-Agent, and marks every answer no-store.
//
// A Relay is an http.Handler: serve it with an http.Server that has its
// own timeouts (the deviceflow relay command does), or mount it in a mux
// at the root.
package relay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/deviceflow/deviceflow/plugin/flow"
)

// The relayed paths, as flow.Endpoints names them on any base.
const (
	DeviceCodePath = "/login/device/code"
	TokenPath      = "/login/oauth/access_token"
)

// The grant types the token endpoint is relayed for.
const (
	grantDeviceCode = "urn:ietf:params:oauth:grant-type:device_code"
	grantRefresh    = "refresh_token"
)

// allowedRequestHeaders are the request headers a page may send (and a
// preflight may ask for) and the only ones forwarded to GitHub.
var allowedRequestHeaders = []string{"Accept", "Content-Type", "User-Agent"}

// forwardedResponseHeaders are the only headers of GitHub's answer passed
// on: those the engine reads (flow.ResponseHeaders: Date dates the token's
// expiry, Retry-After paces a rate-limited client, Content-Type says how
// to read the body), less Cache-Control, which the relay sets itself, and
// X-GitHub-Request-Id, which names the exchange to GitHub's support. Never
// GitHub's cookies.
var forwardedResponseHeaders = forwarded()

func forwarded() []string {
	names := []string{"X-GitHub-Request-Id"}
	for _, h := range flow.ResponseHeaders() {
		if h != "cache-control" {
			names = append(names, http.CanonicalHeaderKey(h))
		}
	}
	return names
}

// exposedResponseHeaders are the forwarded headers a page's script may read
// only when CORS exposes them (the CORS-safelisted Content-Type it reads
// anyway).
var exposedResponseHeaders = exposed()

func exposed() string {
	var names []string
	for _, h := range forwardedResponseHeaders {
		if h != "Content-Type" {
			names = append(names, h)
		}
	}
	return strings.Join(names, ", ")
}

// Relay forwards the device flow's POSTs to one GitHub. It is safe for
// concurrent use.
type Relay struct {
	cfg       Config
	endpoints flow.Endpoints
	upstream  map[string]string // relayed path → GitHub URL
	origins   map[string]bool
	clientIDs map[string]bool
	limiter   *limiter // nil when rate limiting is off
	client    *http.Client
}

// New returns a Relay for cfg, or an error naming what is wrong with it.
func New(cfg Config) (*Relay, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	ep, ferr := flow.DeriveEndpoints(cfg.GitHub)
	if ferr != nil {
		return nil, fmt.Errorf("relay: GitHub: %s", strings.TrimPrefix(ferr.Message, "invalid input: baseUrl: "))
	}
	r := &Relay{
		cfg:       cfg,
		endpoints: ep,
		upstream:  map[string]string{DeviceCodePath: ep.DeviceCodeURL(), TokenPath: ep.TokenURL()},
		origins:   map[string]bool{},
		clientIDs: map[string]bool{},
	}
	for _, o := range cfg.AllowedOrigins {
		c, err := CanonicalOrigin(o)
		if err != nil {
			return nil, fmt.Errorf("relay: AllowedOrigins: %w", err)
		}
		r.origins[c] = true
	}
	for _, id := range cfg.ClientIDs {
		r.clientIDs[id] = true
	}
	if cfg.Rate > 0 {
		r.limiter = newLimiter(cfg.Rate, cfg.Burst, cfg.MaxClients, cfg.Now)
	}
	transport := cfg.Transport
	if transport == nil {
		transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	r.client = &http.Client{
		Transport:     transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return r, nil
}

// Endpoints are GitHub's endpoints the relay forwards to.
func (rl *Relay) Endpoints() flow.Endpoints { return rl.endpoints }

// ServeHTTP relays one request, or refuses it with a JSON error in
// OAuth's shape: {"error", "error_description"}.
func (rl *Relay) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &recorder{ResponseWriter: w}
	w = rec
	origin, hasOrigin := r.Header.Get("Origin"), len(r.Header.Values("Origin")) > 0
	allowed := len(r.Header.Values("Origin")) == 1 && rl.origins[origin]
	// The path as sent, not as decoded: /login%2Fdevice%2Fcode is not
	// the device-code path, whatever a lenient server would make of it.
	target, known := rl.upstream[r.URL.Path]
	known = known && r.URL.RawPath == ""
	defer func() { rl.log(r, known, allowed, rec, start) }()

	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Add("Vary", "Origin")
	if allowed {
		// Exactly the origin, never "*", and never credentials: the flow
		// needs no cookies.
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Expose-Headers", exposedResponseHeaders)
	}

	if rl.limiter != nil {
		if ok, wait := rl.limiter.allow(clientKey(r, rl.cfg.TrustedProxies)); !ok {
			secs := max(1, int((wait+time.Second-1)/time.Second))
			h.Set("Retry-After", strconv.Itoa(secs))
			writeError(w, http.StatusTooManyRequests, "rate_limited", fmt.Sprintf("too many requests from this address: retry after %d s", secs))
			return
		}
	}
	if hasOrigin && !allowed {
		writeError(w, http.StatusForbidden, "origin_not_allowed", "this relay does not serve pages from this origin")
		return
	}
	if !known {
		writeError(w, http.StatusNotFound, "not_found", "this relay forwards only POST "+DeviceCodePath+" and POST "+TokenPath)
		return
	}
	if r.Method == http.MethodOptions {
		rl.preflight(w, r)
		return
	}
	if r.Method != http.MethodPost {
		h.Set("Allow", "POST, OPTIONS")
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "only POST is relayed")
		return
	}
	if r.URL.RawQuery != "" || r.URL.ForceQuery {
		writeError(w, http.StatusBadRequest, "invalid_request", "a query string is not relayed: send the parameters in the body")
		return
	}
	rl.forward(w, r, target)
}

// preflight answers a CORS preflight for a relayed path from an allowed
// origin (other origins were refused before).
func (rl *Relay) preflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Add("Vary", "Access-Control-Request-Method")
	h.Add("Vary", "Access-Control-Request-Headers")
	h.Set("Allow", "POST, OPTIONS")
	method := r.Header.Get("Access-Control-Request-Method")
	if method == "" {
		// A plain OPTIONS: say what is allowed.
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if method != http.MethodPost {
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "only POST is relayed")
		return
	}
	for _, v := range r.Header.Values("Access-Control-Request-Headers") {
		for _, name := range strings.Split(v, ",") {
			name = strings.TrimSpace(name)
			if name != "" && !allowedHeader(name) {
				writeError(w, http.StatusForbidden, "header_not_allowed", "only the headers "+strings.Join(allowedRequestHeaders, ", ")+" are relayed")
				return
			}
		}
	}
	h.Set("Access-Control-Allow-Methods", "POST")
	h.Set("Access-Control-Allow-Headers", strings.Join(allowedRequestHeaders, ", "))
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
}

func allowedHeader(name string) bool {
	for _, a := range allowedRequestHeaders {
		if strings.EqualFold(a, name) {
			return true
		}
	}
	return false
}

// forward checks the body and sends it to GitHub, then passes the answer on.
func (rl *Relay) forward(w http.ResponseWriter, r *http.Request, target string) {
	// The time cap covers a client slow to send its body too; the read
	// deadline is lifted once the body is in, so it bounds the body only
	// (GitHub's answer has its own cap below).
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(rl.cfg.UpstreamTimeout))
	contentType := r.Header.Get("Content-Type")
	media, _, err := mime.ParseMediaType(contentType)
	if err != nil || (media != "application/json" && media != "application/x-www-form-urlencoded") {
		writeError(w, http.StatusUnsupportedMediaType, "unsupported_media_type", "send the parameters as application/json or application/x-www-form-urlencoded")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, rl.cfg.MaxRequestBytes))
	_ = rc.SetReadDeadline(time.Time{})
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeError(w, http.StatusRequestEntityTooLarge, "request_too_large", fmt.Sprintf("the request body is larger than %d bytes", rl.cfg.MaxRequestBytes))
			return
		}
		writeError(w, http.StatusBadRequest, "invalid_request", "the request body could not be read")
		return
	}
	params, problem := parseParams(media, body)
	if problem != "" {
		writeError(w, http.StatusBadRequest, "invalid_request", problem)
		return
	}
	if status, code, why := rl.admit(r.URL.Path, params); status != 0 {
		writeError(w, status, code, why)
		return
	}

	ctx, cancel := context.WithTimeout(r.Context(), rl.cfg.UpstreamTimeout)
	defer cancel()
	up, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		writeError(w, http.StatusInternalServerError, "server_error", "the request to GitHub could not be made")
		return
	}
	up.Header.Set("Content-Type", contentType)
	if a := r.Header.Get("Accept"); a != "" {
		up.Header.Set("Accept", a)
	}
	up.Header.Set("User-Agent", rl.cfg.UserAgent)
	if ua := r.Header.Get("User-Agent"); ua != "" {
		up.Header.Set("User-Agent", ua)
	}
	resp, err := rl.client.Do(up)
	if err != nil {
		rl.upstreamFailed(ctx, w, err)
		return
	}
	defer resp.Body.Close()
	rec := w.(*recorder)
	rec.upstream = resp.StatusCode
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		writeError(w, http.StatusBadGateway, "bad_gateway", "GitHub answered with a redirect, which the relay does not follow")
		return
	}
	answer, err := io.ReadAll(io.LimitReader(resp.Body, rl.cfg.MaxResponseBytes+1))
	if err != nil {
		rl.upstreamFailed(ctx, w, err)
		return
	}
	if int64(len(answer)) > rl.cfg.MaxResponseBytes {
		writeError(w, http.StatusBadGateway, "bad_gateway", "GitHub's answer is larger than the relay passes on")
		return
	}
	h := w.Header()
	for _, name := range forwardedResponseHeaders {
		if v := resp.Header.Get(name); v != "" {
			h.Set(name, v)
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(answer)))
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(answer)
}

// upstreamFailed answers 504 when the time cap ran out, 502 otherwise.
func (rl *Relay) upstreamFailed(ctx context.Context, w http.ResponseWriter, err error) {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
		writeError(w, http.StatusGatewayTimeout, "upstream_timeout", fmt.Sprintf("GitHub did not answer within %s", rl.cfg.UpstreamTimeout))
		return
	}
	if ctx.Err() != nil {
		// The client went away: nobody reads the answer.
		writeError(w, 499, "cancelled", "the client closed the request")
		return
	}
	writeError(w, http.StatusBadGateway, "bad_gateway", "GitHub could not be reached")
}

// admit applies the relay's policy to a request's parameters: the token
// endpoint is relayed only for the device-code and refresh-token grants,
// no client secret is relayed (a page cannot keep one, and the device flow
// needs none), and only the configured client ids, when there are any.
func (rl *Relay) admit(path string, p map[string]string) (status int, code, why string) {
	if _, ok := p["client_secret"]; ok {
		return http.StatusBadRequest, "invalid_request", "a client_secret is not relayed: the device flow needs none, and a web page cannot keep one"
	}
	if path == TokenPath {
		switch p["grant_type"] {
		case grantDeviceCode, grantRefresh:
		default:
			return http.StatusBadRequest, "unsupported_grant_type", "the relay forwards only the device-code and refresh-token grants"
		}
	}
	if len(rl.clientIDs) > 0 && !rl.clientIDs[p["client_id"]] {
		// 400, as RFC 6749 section 5.2 answers unauthorized_client: the
		// engine then reads the body and shows this description (at 403
		// it would blame the app's device-flow setting instead).
		return http.StatusBadRequest, "unauthorized_client", "this relay does not serve this client id"
	}
	return 0, "", ""
}

// parseParams reads a JSON object or a form body into its parameters,
// refusing what GitHub might read differently from the relay: a key given
// twice, a value that is not a string (JSON numbers and booleans apart,
// which no checked parameter is). It returns a problem to report, or "".
func parseParams(media string, body []byte) (map[string]string, string) {
	out := map[string]string{}
	if media == "application/x-www-form-urlencoded" {
		v, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, "the form body is malformed"
		}
		for k, vs := range v {
			if len(vs) != 1 {
				return nil, "parameter " + strconv.Quote(clip(k)) + " is given more than once"
			}
			out[k] = vs[0]
		}
		return out, ""
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, "the body is not a JSON object"
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, "the body is not a JSON object"
		}
		k := t.(string)
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, "the body is not a JSON object"
		}
		if _, dup := out[k]; dup {
			return nil, "parameter " + strconv.Quote(clip(k)) + " is given more than once"
		}
		switch v := v.(type) {
		case string:
			out[k] = v
		case json.Number:
			out[k] = v.String()
		case bool:
			out[k] = strconv.FormatBool(v)
		case nil:
			out[k] = ""
		default:
			return nil, "parameter " + strconv.Quote(clip(k)) + " is not a string"
		}
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return nil, "the body is not a JSON object"
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, "the body holds more than one JSON value"
	}
	return out, ""
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// writeError answers with an OAuth-shaped JSON error.
func writeError(w http.ResponseWriter, status int, code, description string) {
	b, _ := json.Marshal(struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}{code, description})
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// recorder remembers the status written, for the log line.
type recorder struct {
	http.ResponseWriter
	status   int
	upstream int
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// log writes the request's line: nothing a client sent but the method, a
// relayed path and an allowed origin.
func (rl *Relay) log(r *http.Request, known, allowed bool, rec *recorder, start time.Time) {
	if rl.cfg.Logger == nil {
		return
	}
	path, origin, method := "(other)", "", r.Method
	if known {
		path = r.URL.Path
	}
	switch {
	case allowed:
		origin = r.Header.Get("Origin")
	case len(r.Header.Values("Origin")) > 0:
		origin = "(other)"
	}
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
	default:
		method = "(other)"
	}
	args := []any{"method", method, "path", path, "status", rec.status, "ms", time.Since(start).Milliseconds()}
	if origin != "" {
		args = append(args, "origin", origin)
	}
	if rec.upstream != 0 {
		args = append(args, "github_status", rec.upstream)
	}
	rl.cfg.Logger.Info("relay", args...)
}
