package relay

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/deviceflow/deviceflow/plugin/flow"
)

// Defaults used when the matching Config field is zero.
const (
	// DefaultRate is the sustained number of requests per second a client
	// address may make: a device flow polls once every five seconds, so two
	// a second leaves room for several people behind one address.
	DefaultRate = 2.0
	// DefaultBurst is how many requests a client address may make at once
	// before DefaultRate applies.
	DefaultBurst = 20
	// DefaultUpstreamTimeout caps one request to GitHub, from sending it to
	// the last byte of the answer.
	DefaultUpstreamTimeout = 15 * time.Second
	// DefaultMaxRequestBytes caps a request body. A device-code or token
	// request is a few hundred bytes.
	DefaultMaxRequestBytes = 16 << 10
	// DefaultMaxResponseBytes caps an answer from GitHub. A token answer
	// is well under a kilobyte.
	DefaultMaxResponseBytes = 64 << 10
	// DefaultUserAgent is sent to GitHub when the client sends no
	// User-Agent of its own.
	DefaultUserAgent = "deviceflow-relay"
	// DefaultMaxClients caps how many client addresses the rate limiter
	// tracks at once; addresses beyond it share one bucket until idle
	// ones are forgotten.
	DefaultMaxClients = 1 << 16
)

// Config sets up a Relay. Only GitHub and AllowedOrigins usually need
// setting; every other field has a safe default.
type Config struct {
	// GitHub is the base URL of the GitHub to relay to:
	// https://github.com (the default when empty), https://HOST for GitHub
	// Enterprise Server (https://HOST/api/v3 is understood), or
	// https://SUBDOMAIN.ghe.com for GitHub Enterprise Cloud with data
	// residency. The engine's rules (flow.DeriveEndpoints, the ones the
	// plugin itself follows) map it to the OAuth endpoints and refuse what
	// the plugin refuses: plain http to anything but this machine, a path,
	// credentials, a query.
	GitHub string

	// AllowedOrigins are the web origins whose pages may call the relay,
	// such as https://app.example.com or http://localhost:5173. A request's
	// Origin header must equal one of them exactly (browsers send origins
	// in this canonical form: lower-case scheme and host, no default port,
	// no path). Each must be https, or http to this machine; "*" and
	// "null" are refused. Requests without an Origin header (not from a
	// browser page) are relayed without CORS headers: an origin check
	// protects pages from other pages, not GitHub from scripts, which can
	// send any Origin they like; the rate limit is for those.
	AllowedOrigins []string

	// ClientIDs, when not empty, are the only OAuth App or GitHub App
	// client ids relayed, so that a relay run for one application is not
	// a free relay for every other. Empty relays any client id.
	ClientIDs []string

	// Rate is the sustained number of requests per second each client
	// address may make (a token bucket of Burst tokens, refilled at Rate).
	// Zero means DefaultRate; a negative Rate turns rate limiting off.
	Rate float64
	// Burst is the token bucket's size. Zero means DefaultBurst.
	Burst int
	// MaxClients caps how many client addresses are tracked at once.
	// Zero means DefaultMaxClients.
	MaxClients int

	// TrustedProxies are the addresses of reverse proxies in front of the
	// relay. Only when a request arrives from one of them is its
	// X-Forwarded-For header read, right to left, skipping further trusted
	// proxies, to find the client address the rate limit applies to.
	// Empty means the relay faces clients directly and ignores
	// X-Forwarded-For, which any client can forge.
	TrustedProxies []netip.Prefix

	// UpstreamTimeout caps each request to GitHub, answer included; the
	// client then gets 504. Zero means DefaultUpstreamTimeout. It also
	// bounds how long a client may take to send its request body.
	UpstreamTimeout time.Duration
	// MaxRequestBytes caps a request body; larger ones get 413. Zero means
	// DefaultMaxRequestBytes.
	MaxRequestBytes int64
	// MaxResponseBytes caps GitHub's answer; a larger one gets 502. Zero
	// means DefaultMaxResponseBytes.
	MaxResponseBytes int64

	// UserAgent is sent to GitHub when the client sends none (a browser
	// always sends its own). Empty means DefaultUserAgent.
	UserAgent string

	// Transport performs the requests to GitHub; a clone of
	// http.DefaultTransport when nil. Redirects are never followed: one
	// from GitHub is answered 502.
	Transport http.RoundTripper

	// Logger receives one line per request: method, path (only the two
	// relayed paths are named), origin (only an allowed one), status,
	// GitHub's status and the duration. Never a body, a query, a header
	// value, a code or a token. Nil logs nothing.
	Logger *slog.Logger

	// Now is the rate limiter's clock; time.Now when nil. For tests.
	Now func() time.Time
}

// withDefaults fills in zero fields.
func (c Config) withDefaults() Config {
	if c.Rate == 0 {
		c.Rate = DefaultRate
	}
	if c.Burst == 0 {
		c.Burst = DefaultBurst
	}
	if c.MaxClients == 0 {
		c.MaxClients = DefaultMaxClients
	}
	if c.UpstreamTimeout == 0 {
		c.UpstreamTimeout = DefaultUpstreamTimeout
	}
	if c.MaxRequestBytes == 0 {
		c.MaxRequestBytes = DefaultMaxRequestBytes
	}
	if c.MaxResponseBytes == 0 {
		c.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if c.UserAgent == "" {
		c.UserAgent = DefaultUserAgent
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// validate reports a Config that cannot work, field by field.
func (c Config) validate() error {
	var errs []error
	if c.Burst < 0 {
		errs = append(errs, errors.New("relay: Burst must not be negative"))
	}
	if c.MaxClients < 0 {
		errs = append(errs, errors.New("relay: MaxClients must not be negative"))
	}
	if c.UpstreamTimeout < 0 || c.MaxRequestBytes < 0 || c.MaxResponseBytes < 0 {
		errs = append(errs, errors.New("relay: UpstreamTimeout, MaxRequestBytes and MaxResponseBytes must not be negative"))
	}
	for _, p := range c.TrustedProxies {
		if !p.IsValid() {
			errs = append(errs, errors.New("relay: a TrustedProxies prefix is not valid"))
		}
	}
	for _, id := range c.ClientIDs {
		if strings.TrimSpace(id) == "" || strings.ContainsFunc(id, func(r rune) bool { return r < 0x21 || r == 0x7f }) {
			errs = append(errs, fmt.Errorf("relay: client id %+q is empty or holds white space or a control character", id))
		}
	}
	return errors.Join(errs...)
}

// CanonicalOrigin returns the form in which browsers send origin in an
// Origin header (lower-case scheme and host, no default port, no trailing
// slash), or an error saying why the relay would not allow it: only https
// origins, or http ones on this machine, and never "*" or "null".
func CanonicalOrigin(origin string) (string, error) {
	o := strings.TrimSpace(origin)
	switch o {
	case "":
		return "", errors.New("an empty origin")
	case "*":
		return "", errors.New(`"*" is not allowed: name each origin`)
	case "null":
		return "", errors.New(`"null" is not allowed: every sandboxed or file page shares it`)
	}
	u, err := url.Parse(o)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return "", fmt.Errorf("%+q is not an origin such as https://app.example.com", origin)
	}
	if u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return "", fmt.Errorf("%+q is not an origin: no user, path, query or fragment", origin)
	}
	scheme, host := strings.ToLower(u.Scheme), strings.ToLower(u.Hostname())
	port := u.Port()
	switch scheme {
	case "https":
		if port == "443" {
			port = ""
		}
	case "http":
		if !flow.IsLoopback(host) {
			return "", fmt.Errorf("%+q: plain http is allowed only for this machine (localhost, 127.0.0.1, [::1]): use https", origin)
		}
		if port == "80" {
			port = ""
		}
	default:
		return "", fmt.Errorf("%+q: scheme %q is not allowed: use https", origin, u.Scheme)
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		return scheme + "://" + host + ":" + port, nil
	}
	return scheme + "://" + host, nil
}
