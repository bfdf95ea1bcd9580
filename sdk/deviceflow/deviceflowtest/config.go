package deviceflowtest

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// ClientType says which kind of GitHub app a client id belongs to.
type ClientType string

// The two kinds of GitHub app that can use the device flow.
const (
	// OAuthApp is a GitHub OAuth App: its tokens start with gho_, carry the
	// requested scopes and never expire.
	OAuthApp ClientType = "oauth-app"
	// GitHubApp is a GitHub App: its tokens start with ghu_, carry no scopes,
	// and expire when the client has ExpiringTokens.
	GitHubApp ClientType = "github-app"
)

// Default values used when the matching Config field is zero.
const (
	DefaultInterval             = 5 * time.Second
	DefaultExpiresIn            = 900 * time.Second
	DefaultAccessTokenLifetime  = 28800 * time.Second    // eight hours
	DefaultRefreshTokenLifetime = 15897600 * time.Second // six months (184 days)
	DefaultLogin                = "octocat"
	DefaultUserID               = 1
)

// Client describes one registered app, as its settings page on GitHub would.
type Client struct {
	// ID is the client id the app sends as client_id.
	ID string
	// Type is OAuthApp or GitHubApp; empty means OAuthApp.
	Type ClientType
	// Secret, when not empty, must match a client_secret that a request
	// carries; requests without a client_secret are accepted, as the device
	// flow needs none.
	Secret string
	// DeviceFlowDisabled makes the device-code endpoint answer
	// device_flow_disabled, as GitHub does until the app's settings enable
	// the device flow.
	DeviceFlowDisabled bool
	// ExpiringTokens gives a GitHubApp access tokens that expire, with
	// refresh tokens. It is ignored for an OAuthApp.
	ExpiringTokens bool
	// Login and UserID name the user who approves this client's codes; the
	// Config's Login and UserID are used when they are empty.
	Login  string
	UserID int64
}

// Config sets up an emulator. The zero value is a permissive emulator with
// GitHub's defaults: every client id is accepted as an OAuth App, codes last
// 900 seconds and the polling interval is 5 seconds.
type Config struct {
	// Clients are the registered apps. When Clients is empty, or
	// AllowUnknownClients is set, a client id not listed here is accepted
	// as an OAuth App with the device flow enabled.
	Clients []Client
	// AllowUnknownClients keeps the permissive behaviour when Clients is
	// not empty.
	AllowUnknownClients bool

	// Interval is the polling interval given with each new device code. It
	// may be a fraction of a second (it is then sent as a fractional number
	// of seconds), which keeps tests fast. Zero means DefaultInterval.
	Interval time.Duration
	// ExpiresIn is how long device and user codes live. Zero means
	// DefaultExpiresIn.
	ExpiresIn time.Duration
	// AccessTokenLifetime is how long an expiring GitHub App access token
	// lives. Zero means DefaultAccessTokenLifetime.
	AccessTokenLifetime time.Duration
	// RefreshTokenLifetime is how long a refresh token lives. Zero means
	// DefaultRefreshTokenLifetime.
	RefreshTokenLifetime time.Duration

	// PollTolerance lets a poll arrive this much sooner than the interval
	// allows without being answered slow_down. Zero is strict: the interval
	// is measured between the arrivals of two polls. Clients that poll on a
	// fixed ticker (golang.org/x/oauth2 does) drift by network latency and
	// need a little tolerance, such as 100ms.
	PollTolerance time.Duration

	// AutoApprove, when N > 0, approves a device code as its Nth
	// well-spaced poll arrives, so that poll already receives the token
	// (polls answered with slow_down do not count). Zero means codes wait
	// for a person or for Approve.
	AutoApprove int

	// VerificationURIComplete adds verification_uri_complete (the page's URL
	// with the user code filled in) to device-code responses. GitHub does not
	// send it, so it is off by default.
	VerificationURIComplete bool

	// BaseURL, when set, is used for verification_uri instead of the scheme
	// and Host of the request (for an emulator behind a proxy).
	BaseURL string

	// Login and UserID are the user who approves codes when a Client names
	// none. Empty means DefaultLogin and DefaultUserID.
	Login  string
	UserID int64

	// DeviceCodeErrorStatus is the HTTP status of error answers from the
	// device-code endpoint. Zero means 400, which is what github.com answers
	// for device_flow_disabled; set http.StatusOK to answer them like the
	// token endpoint does.
	DeviceCodeErrorStatus int

	// Now is the emulator's clock: code and token expiry, slow_down and the
	// Date header follow it. Nil means time.Now. See FakeClock.
	Now func() time.Time

	// CORS adds Access-Control-Allow-Origin: * to every answer and answers
	// preflight requests, so a page in a browser can call the emulator.
	// GitHub's OAuth endpoints send no CORS headers, so it is off by default.
	CORS bool

	// TLS makes Start serve HTTPS with a self-signed certificate generated
	// for 127.0.0.1, ::1, localhost, github.com, api.github.com and TLSHosts.
	// Certificate, CertPool, CertPEM and Client give clients what they need to
	// trust it.
	TLS bool
	// TLSHosts are further host names or IP addresses for the certificate.
	TLSHosts []string

	// Profile selects the server emulated: "" is GitHub; ProfileGeneric
	// is an RFC 8628 / OpenID Connect server under an issuer path (see
	// generic.go): discovery documents, RFC 6749 errors as HTTP 400, an
	// id_token, access tokens that expire (with refresh tokens only for
	// clients with ExpiringTokens), client secrets required when set, a
	// userinfo and a revocation endpoint.
	Profile string
	// IssuerPath is the generic profile's issuer path; empty means
	// DefaultIssuerPath.
	IssuerPath string
	// NoOpenIDConfiguration serves the generic profile's metadata only at
	// RFC 8414's place (/.well-known/oauth-authorization-server/PATH).
	NoOpenIDConfiguration bool

	// Logger receives one line per request and per grant event; nil logs
	// nothing. Tokens and device codes are never logged.
	Logger *slog.Logger
}

// validate reports a Config that cannot work.
func (c *Config) validate() error {
	seen := map[string]bool{}
	for _, cl := range c.Clients {
		if strings.TrimSpace(cl.ID) == "" {
			return fmt.Errorf("emulator: a client has an empty ID")
		}
		if seen[cl.ID] {
			return fmt.Errorf("emulator: client %q is listed twice", cl.ID)
		}
		seen[cl.ID] = true
		switch cl.Type {
		case "", OAuthApp, GitHubApp:
		default:
			return fmt.Errorf("emulator: client %q has unknown type %q (want %q or %q)", cl.ID, cl.Type, OAuthApp, GitHubApp)
		}
	}
	for name, d := range map[string]time.Duration{
		"Interval": c.Interval, "ExpiresIn": c.ExpiresIn,
		"AccessTokenLifetime": c.AccessTokenLifetime, "RefreshTokenLifetime": c.RefreshTokenLifetime,
		"PollTolerance": c.PollTolerance,
	} {
		if d < 0 {
			return fmt.Errorf("emulator: %s is negative", name)
		}
	}
	if c.Profile != "" && c.Profile != ProfileGeneric {
		return fmt.Errorf("emulator: unknown profile %q (want \"\" or %q)", c.Profile, ProfileGeneric)
	}
	if c.AutoApprove < 0 {
		return fmt.Errorf("emulator: AutoApprove is negative")
	}
	if s := c.DeviceCodeErrorStatus; s != 0 && (s < 200 || s > 599) {
		return fmt.Errorf("emulator: DeviceCodeErrorStatus %d is not an HTTP status", s)
	}
	return nil
}

// withDefaults returns the Config with every zero field replaced by its
// default value.
func (c Config) withDefaults() Config {
	if c.Interval == 0 {
		c.Interval = DefaultInterval
	}
	if c.ExpiresIn == 0 {
		c.ExpiresIn = DefaultExpiresIn
	}
	if c.AccessTokenLifetime == 0 {
		c.AccessTokenLifetime = DefaultAccessTokenLifetime
	}
	if c.RefreshTokenLifetime == 0 {
		c.RefreshTokenLifetime = DefaultRefreshTokenLifetime
	}
	if c.Login == "" {
		c.Login = DefaultLogin
	}
	if c.UserID == 0 {
		c.UserID = DefaultUserID
	}
	if c.DeviceCodeErrorStatus == 0 {
		c.DeviceCodeErrorStatus = http.StatusBadRequest
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Profile == ProfileGeneric && c.IssuerPath == "" {
		c.IssuerPath = DefaultIssuerPath
	}
	c.IssuerPath = "/" + strings.Trim(c.IssuerPath, "/")
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	c.Clients = append([]Client(nil), c.Clients...)
	c.TLSHosts = append([]string(nil), c.TLSHosts...)
	return c
}

// lookupClient returns the client registered under id with its defaults
// filled in, or an OAuth App for an unknown id in permissive mode. The
// boolean is false for an id the emulator does not accept.
func (c *Config) lookupClient(id string) (Client, bool) {
	if id == "" {
		return Client{}, false
	}
	for _, cl := range c.Clients {
		if cl.ID == id {
			return c.fillClient(cl), true
		}
	}
	if len(c.Clients) == 0 || c.AllowUnknownClients {
		return c.fillClient(Client{ID: id}), true
	}
	return Client{}, false
}

func (c *Config) fillClient(cl Client) Client {
	if cl.Type == "" {
		cl.Type = OAuthApp
	}
	if cl.Type != GitHubApp && c.Profile != ProfileGeneric {
		cl.ExpiringTokens = false
	}
	if cl.Login == "" {
		cl.Login = c.Login
	}
	if cl.UserID == 0 {
		cl.UserID = c.UserID
	}
	return cl
}
