package deviceflow

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/deviceflow/deviceflow/host"
	"github.com/deviceflow/deviceflow/plugin/flow"
)

// Client signs a person in with GitHub's device flow and keeps their token.
// It is safe for concurrent use: concurrent Token calls for the same scopes
// share one device flow or one refresh.
type Client struct {
	cfg     Config
	host    *host.Host
	flights flights
}

// New returns a Client. Nothing is sent to GitHub until the first call;
// the plugin is compiled once per process, on first use.
func New(cfg Config) (*Client, error) {
	c := &Client{cfg: cfg}
	if c.cfg.Store == nil {
		c.cfg.Store = host.NewMemoryStore()
	}
	if c.cfg.OnVerification == nil {
		c.cfg.OnVerification = defaultVerification
	}
	h, err := host.New(host.Options{
		BaseURL:        cfg.BaseURL,
		Server:         cfg.server(),
		HTTPClient:     cfg.HTTPClient,
		RequestTimeout: cfg.RequestTimeout,
		UserAgent:      cfg.UserAgent,
		Clock:          cfg.Clock,
		Sleep:          cfg.Sleep,
		Store:          c.cfg.Store,
		OnEvent:        c.onEvent,
	})
	if err != nil {
		return nil, err
	}
	c.host = h
	return c, nil
}

// Close releases the client's idle plugin instances.
func (c *Client) Close() error { return c.host.Close(context.Background()) }

// Token returns a token: the cached one, a refreshed one when it is about
// to expire, or a new one from a device flow (which calls OnVerification
// and waits for the person). Options choose the scopes, force a new flow or
// forbid one.
func (c *Client) Token(ctx context.Context, opts ...Option) (*Authentication, error) {
	o := c.options(opts)
	kind := "token"
	switch {
	case o.refresh:
		kind = "login"
	case o.cachedOnly:
		kind = "cached"
	}
	in := c.input(o)
	if o.cachedOnly {
		// The plugin answers the cached token, refreshes it, or fails with
		// not_found: it never starts a device flow (with WithRefresh too:
		// the engine decides, as in every language).
		in.Interactive = new(false)
	}
	out, err := c.flights.do(ctx, c.key(o), kind, func(ctx context.Context) ([]byte, error) {
		return c.call(ctx, "authenticate", in)
	})
	if err != nil {
		return nil, err
	}
	return decodeAuthentication(out)
}

// Refresh exchanges the cached refresh token for a new pair now, whatever
// the cached token's expiry. It fails with ErrNotFound when there is no
// cached token or it has no refresh token (only GitHub Apps with expiring
// tokens have one).
func (c *Client) Refresh(ctx context.Context, opts ...Option) (*Authentication, error) {
	o := c.options(opts)
	out, err := c.flights.do(ctx, c.key(o), "refresh", func(ctx context.Context) ([]byte, error) {
		return c.call(ctx, "refresh", c.input(o))
	})
	if err != nil {
		return nil, err
	}
	return decodeAuthentication(out)
}

// CheckResult is what GitHub's API says about the cached token.
type CheckResult struct {
	// Valid is false when GitHub refuses the token (revoked or expired).
	Valid bool `json:"valid"`
	// Login is the user the token belongs to.
	Login string `json:"login,omitempty"`
	// Scopes are the scopes GitHub reports for the token (OAuth Apps).
	Scopes []string `json:"scopes,omitempty"`
	// Sub is the subject a generic server's userinfo endpoint names
	// (Login is then its preferred_username, email or sub).
	Sub string `json:"sub,omitempty"`
}

// Check asks GitHub's API (GET /user), or a generic server's userinfo
// endpoint, whether the cached token works and whose it is. It fails with ErrNotFound when nothing is cached.
func (c *Client) Check(ctx context.Context, opts ...Option) (*CheckResult, error) {
	out, err := c.call(ctx, "check", c.input(c.options(opts)))
	if err != nil {
		return nil, err
	}
	var r CheckResult
	if err := json.Unmarshal(out, &r); err != nil {
		return nil, &Error{Code: ErrPlugin.Code, Message: "deviceflow: malformed check answer", Cause: err}
	}
	return &r, nil
}

// Logout forgets the cached token. It reports whether there was one. The
// token itself stays valid at GitHub until the person revokes it in their
// settings (revoking needs the app's client secret). On a generic server
// that offers RFC 7009 revocation (Config.RevocationEndpoint, or its
// issuer's metadata), the plugin then revokes it there too, best effort.
func (c *Client) Logout(ctx context.Context, opts ...Option) (removed bool, err error) {
	o := c.options(opts)
	out, err := c.flights.do(ctx, c.key(o), "logout", func(ctx context.Context) ([]byte, error) {
		return c.call(ctx, "logout", c.input(o))
	})
	if err != nil {
		return false, err
	}
	var r struct {
		Removed bool `json:"removed"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		return false, &Error{Code: ErrPlugin.Code, Message: "deviceflow: malformed logout answer", Cause: err}
	}
	return r.Removed, nil
}

// input is what every export reads (wit: options).
type input struct {
	ClientID   string   `json:"clientId"`
	ClientType string   `json:"clientType,omitempty"`
	Scopes     []string `json:"scopes,omitempty"`
	BaseURL    string   `json:"baseUrl,omitempty"`
	Refresh    bool     `json:"refresh,omitempty"`
	Encoding   string   `json:"encoding,omitempty"`
	flow.Server
	ClientSecret string `json:"clientSecret,omitempty"`
	// Interactive false forbids a device flow (authenticate, authorize).
	Interactive *bool  `json:"interactive,omitempty"`
	Method      string `json:"method,omitempty"`
	URL         string `json:"url,omitempty"`
	// State is poll's flow state, as begin or the last poll answered it.
	State json.RawMessage `json:"state,omitempty"`
}

func (c *Client) options(opts []Option) callOptions {
	o := callOptions{scopes: c.cfg.Scopes}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	return o
}

func (c *Client) input(o callOptions) input {
	return input{ClientID: c.cfg.ClientID, ClientType: c.cfg.ClientType, Scopes: o.scopes, BaseURL: c.cfg.BaseURL, Refresh: o.refresh, Encoding: c.cfg.Encoding,
		Server: c.cfg.server(), ClientSecret: c.cfg.ClientSecret}
}

// key names the cache entry a call works on: one client and base URL per
// Client, so the scope set tells entries apart. Scopes are normalised as
// the plugin normalises them (rule 6), so "repo,gist" and ["gist","repo"]
// share an entry and its flights.
func (c *Client) key(o callOptions) string {
	if c.cfg.ClientType == GitHubApp {
		return ""
	}
	return strings.Join(flow.NormalizeScopes(o.scopes), " ")
}

// call runs one export.
func (c *Client) call(ctx context.Context, export string, in input) ([]byte, error) {
	raw, err := json.Marshal(in)
	if err != nil {
		return nil, &Error{Code: ErrInvalidInput.Code, Message: "invalid input: " + err.Error(), Cause: err}
	}
	st := &callState{}
	out, err := c.host.Call(withState(ctx, st), export, raw)
	if err != nil {
		if cause := st.callbackErr(); cause != nil && host.IsCode(err, ErrCancelled.Code) {
			return nil, &Error{Code: ErrCancelled.Code, Message: "cancelled: " + cause.Error(), Cause: cause}
		}
		return nil, err
	}
	return out, nil
}

// onEvent hands the plugin's events to the callbacks.
func (c *Client) onEvent(ctx context.Context, he host.Event) error {
	ev := decodeEvent(he)
	st := stateOf(ctx)
	if ev.Verification != nil {
		if err := c.cfg.OnVerification(ctx, *ev.Verification); err != nil {
			st.setCallbackErr(err)
			return err
		}
	}
	if c.cfg.OnEvent != nil {
		if err := c.cfg.OnEvent(ctx, ev); err != nil {
			st.setCallbackErr(err)
			return err
		}
	}
	return nil
}

func decodeAuthentication(out []byte) (*Authentication, error) {
	var a Authentication
	if err := json.Unmarshal(out, &a); err != nil {
		return nil, &Error{Code: ErrPlugin.Code, Message: "deviceflow: malformed authentication from the plugin", Cause: err}
	}
	return &a, nil
}
