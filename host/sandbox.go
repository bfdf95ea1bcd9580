package host

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/deviceflow/deviceflow/plugin/flow"
)

// allowedHosts is the sandbox's allow-list: the hosts of the origins the
// engine derives from the base URL (rule 9; github.com and api.github.com
// by default) or from a generic server's issuer or endpoints. The rule
// lives in the engine (flow.EndpointsFor and Origins, which the info export
// answers too); the host only takes the hosts out of its answer. discover
// reports that the plugin will name more origins in its endpoints event.
func allowedHosts(opts Options) (map[string]bool, bool, error) {
	out := map[string]bool{}
	if len(opts.AllowedHosts) > 0 {
		for _, h := range opts.AllowedHosts {
			out[strings.ToLower(h)] = true
		}
		return out, false, nil
	}
	ep, ferr := flow.EndpointsFor(&flow.Input{BaseURL: opts.BaseURL, Server: opts.Server})
	if ferr != nil {
		return nil, false, &Error{Code: ErrInvalidInput.Code, Message: ferr.Message}
	}
	for _, root := range ep.Origins() {
		u, err := url.Parse(root)
		if err != nil {
			return nil, false, &Error{Code: ErrInvalidInput.Code, Message: "invalid input: baseUrl: " + err.Error()}
		}
		out[strings.ToLower(u.Host)] = true
	}
	return out, ep.Discover, nil
}

// allowDiscovered adds the origins of the plugin's endpoints event (an
// issuer's discovered endpoints) to the allow-list of a host configured
// with that issuer; https (or loopback http) is still checked per request.
func (h *Host) allowDiscovered(raw []byte) {
	if !h.discover {
		return
	}
	var ev struct {
		Origins []string `json:"origins"`
	}
	if json.Unmarshal(raw, &ev) != nil {
		return
	}
	h.allowMu.Lock()
	defer h.allowMu.Unlock()
	for _, o := range ev.Origins {
		if u, err := url.Parse(o); err == nil && u.Host != "" && (u.Scheme == "https" || u.Scheme == "http") {
			h.allowed[strings.ToLower(u.Host)] = true
		}
	}
}

// check refuses URLs the sandbox does not allow: only allowed hosts, and
// only https except for loopback addresses.
func (h *Host) check(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return errors.New("not an absolute URL")
	}
	host := strings.ToLower(u.Host)
	h.allowMu.RLock()
	ok := h.allowed[host]
	h.allowMu.RUnlock()
	if !ok {
		return errors.New("host " + u.Hostname() + " is not in the allow-list")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !flow.IsLoopback(u.Hostname()) {
			return errors.New("plain http is allowed only for loopback hosts")
		}
	default:
		return errors.New("scheme " + u.Scheme + " is not allowed")
	}
	return nil
}

// sandboxClient copies the caller's client and refuses redirects, so a
// response can never lead a request outside the allow-list.
func sandboxClient(c *http.Client) *http.Client {
	var cp http.Client
	if c != nil {
		cp = *c
	}
	cp.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &cp
}

// doHTTP performs one request for the plugin inside the sandbox.
func (h *Host) doHTTP(ctx context.Context, r *httpRequest) *httpResponse {
	if ctx.Err() != nil {
		return &httpResponse{Error: &wireError{Kind: "network", Message: "cancelled before the request was sent"}}
	}
	if err := h.check(r.URL); err != nil {
		return &httpResponse{Error: &wireError{Kind: "denied", Message: err.Error()}}
	}
	if h.onRequest != nil {
		h.onRequest(r)
	}
	timeout := h.opts.RequestTimeout
	if r.TimeoutMs > 0 && time.Duration(r.TimeoutMs)*time.Millisecond < timeout {
		timeout = time.Duration(r.TimeoutMs) * time.Millisecond
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, r.Method, r.URL, strings.NewReader(r.Body))
	if err != nil {
		return &httpResponse{Error: &wireError{Kind: "denied", Message: "bad request: " + err.Error()}}
	}
	for k, v := range r.Headers {
		req.Header.Set(k, v)
	}
	if h.opts.UserAgent != "" {
		req.Header.Set("User-Agent", h.opts.UserAgent)
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return &httpResponse{Error: transportFailure(rctx, err)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, h.opts.MaxResponseBytes+1))
	if err != nil {
		return &httpResponse{Error: transportFailure(rctx, err)}
	}
	if int64(len(body)) > h.opts.MaxResponseBytes {
		return &httpResponse{Error: &wireError{Kind: "network", Message: "the response is larger than the host's limit"}}
	}
	// Only the headers the engine reads cross into the sandbox: not
	// GitHub's cookies, nor the rest it sends with every answer.
	headers := make(map[string]string, 4)
	for k, vs := range resp.Header {
		if flow.ReadsResponseHeader(k) {
			headers[strings.ToLower(k)] = strings.Join(vs, ", ")
		}
	}
	return &httpResponse{Status: resp.StatusCode, Headers: headers, Body: string(body)}
}

// transportFailure classifies a failed request as a timeout or a network
// error. The message names the failure without the URL's query.
func transportFailure(ctx context.Context, err error) *wireError {
	var ne net.Error
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return &wireError{Kind: "timeout", Message: "the request timed out"}
	}
	msg := "the connection failed"
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		msg = "the connection was refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		msg = "the connection was closed before a response arrived"
	}
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil && msg == "the connection failed" {
		msg += ": " + ue.Err.Error()
	}
	return &wireError{Kind: "network", Message: msg}
}
