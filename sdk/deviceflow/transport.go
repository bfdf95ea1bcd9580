package deviceflow

import (
	"context"
	"encoding/json"
	"net/http"

	"golang.org/x/oauth2"
)

// Transport is an http.RoundTripper that authenticates each request as the
// plugin's authorize export says (octokit's hook): an Authorization header
// with the token for API requests, nothing for GitHub's OAuth endpoints.
// A missing or expiring token is obtained first, through Token, so
// concurrent requests share one device flow or one refresh.
type Transport struct {
	// Client provides the tokens. Required.
	Client *Client
	// Base sends the requests; http.DefaultTransport when nil.
	Base http.RoundTripper
	// Options apply to every Token call, such as WithScopes.
	Options []Option
}

// RoundTrip adds the headers and sends the request. It never changes the
// caller's request.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	closeBody := func() {
		if req.Body != nil {
			req.Body.Close()
		}
	}
	if t.Client == nil {
		closeBody()
		return nil, &Error{Code: ErrInvalidInput.Code, Message: "invalid input: Transport.Client is nil"}
	}
	headers, err := t.Client.authorize(req.Context(), req, t.Options)
	if err != nil {
		closeBody()
		return nil, err
	}
	r := req
	if len(headers) > 0 {
		r = req.Clone(req.Context())
		for k, v := range headers {
			r.Header.Set(k, v)
		}
	}
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(r)
}

// authorize asks the plugin for a request's headers. The plugin decides
// everything: nothing for the OAuth endpoints and other hosts, the cached
// token (refreshed when it is about to expire) for the API, and — unless the
// options say WithCachedOnly — a device flow when nothing usable is cached,
// under the cache key's lease, so concurrent requests sign in and refresh
// once. The calls take turns per cache entry with Token's, as an
// optimisation.
func (c *Client) authorize(ctx context.Context, req *http.Request, opts []Option) (map[string]string, error) {
	o := c.options(opts)
	in := c.input(o)
	in.Refresh = false // a Transport never starts a new flow per request
	if o.cachedOnly {
		in.Interactive = new(false)
	}
	in.Method, in.URL = req.Method, req.URL.String()
	out, err := c.flights.do(ctx, c.key(o), exclusive, func(ctx context.Context) ([]byte, error) {
		return c.call(ctx, "authorize", in)
	})
	if err != nil {
		return nil, err
	}
	var r struct {
		Headers map[string]string `json:"headers"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		return nil, &Error{Code: ErrPlugin.Code, Message: "deviceflow: malformed authorize answer", Cause: err}
	}
	return r.Headers, nil
}

// Client returns an *http.Client whose requests carry the token (see
// Transport). Its base transport is the one of the *http.Client stored in
// ctx under oauth2.HTTPClient, as with oauth2.NewClient, or
// http.DefaultTransport.
func (c *Client) Client(ctx context.Context, opts ...Option) *http.Client {
	var base http.RoundTripper
	if hc, ok := ctx.Value(oauth2.HTTPClient).(*http.Client); ok && hc != nil {
		base = hc.Transport
	}
	return &http.Client{Transport: &Transport{Client: c, Base: base, Options: opts}}
}
