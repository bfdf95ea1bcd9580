package deviceflow

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/deviceflow/deviceflow/host"
)

// The two kinds of GitHub app, as Config.ClientType spells them.
const (
	OAuthApp  = "oauth-app"
	GitHubApp = "github-app"
)

// Store keeps cached authentications under keys the plugin builds. See the
// host package for the stores on offer.
type Store = host.Store

// NewMemoryStore returns a Store that lives as long as the process.
func NewMemoryStore() *host.MemoryStore { return host.NewMemoryStore() }

// Preload starts loading the plugin (compiling it, or reading it from the
// compilation cache) on another goroutine and returns at once. A command
// that will ask for a token calls it first thing, so that the plugin loads
// while the command parses its flags and opens its store.
func Preload() { host.Preload() }

// Config sets up a Client. ClientID is required; every other field has a
// sensible default.
type Config struct {
	// ClientID is the OAuth App's or GitHub App's client id.
	ClientID string
	// ClientType is OAuthApp (the default) or GitHubApp.
	ClientType string
	// Scopes are the OAuth App scopes to ask for (GitHub Apps have none).
	// Token's WithScopes replaces them for one call.
	Scopes []string
	// BaseURL is https://github.com (the default), https://HOST for GitHub
	// Enterprise Server, or an http://127.0.0.1 URL for a local emulator.
	// The sandbox lets the plugin reach only the hosts derived from it.
	BaseURL string
	// Issuer names an RFC 8628 server other than GitHub by its issuer URL
	// (https://accounts.google.com, https://HOST/realms/REALM, ...): the
	// plugin reads its endpoints from the OpenID Connect or RFC 8414
	// discovery document. It selects the generic profile: form-encoded
	// requests, bearer tokens, no GitHub client types; BaseURL stays empty.
	Issuer string
	// DeviceEndpoint and TokenEndpoint name a generic server's endpoints
	// directly (with or without Issuer); UserinfoEndpoint (for Check) and
	// RevocationEndpoint (for Logout) are optional.
	DeviceEndpoint     string
	TokenEndpoint      string
	UserinfoEndpoint   string
	RevocationEndpoint string
	// ClientSecret authenticates a confidential client to a generic server
	// (HTTP Basic; Google's device flow needs one). The plugin never puts
	// it in an event, an error or a stored value.
	ClientSecret string
	// Store keeps tokens between calls; a memory store when nil.
	Store Store

	// OnVerification shows the person the code and the page. It may block
	// (to wait for "press Enter"); an error cancels the flow, and Token
	// then fails with an error that wraps it. When nil, the code and the
	// URL are printed on standard error.
	OnVerification func(ctx context.Context, v Verification) error
	// OnEvent receives every event (verification included), for progress
	// display. An error cancels the call like OnVerification's.
	OnEvent func(ctx context.Context, e Event) error

	// HTTPClient performs the plugin's requests to GitHub; its Transport is
	// used, redirects are never followed. http.DefaultTransport when nil.
	HTTPClient *http.Client
	// RequestTimeout caps each request to GitHub; 30 s when zero.
	RequestTimeout time.Duration
	// Encoding is the request body encoding: "json" (GitHub's default) or
	// "form" (application/x-www-form-urlencoded, the generic profile's
	// default).
	Encoding string
	// UserAgent names the application in every request to GitHub, in
	// place of the plugin's own "deviceflow/VERSION". Nothing else about
	// the requests changes: HTTPClient's transport sees them as the
	// protocol makes them.
	UserAgent string
	// Clock and Sleep replace the real clock and sleep, for tests.
	Clock func() time.Time
	Sleep func(ctx context.Context, d time.Duration) (cancelled bool)
}

// printVerification is the default OnVerification.
func printVerification(w io.Writer) func(context.Context, Verification) error {
	return func(_ context.Context, v Verification) error {
		_, err := fmt.Fprintf(w, "To sign in, open %s and enter the code %s (it expires in %s).\n",
			v.URL(), v.UserCode, v.ExpiresIn.Round(time.Second))
		if err != nil {
			// Nobody can see the code: waiting would be pointless.
			return fmt.Errorf("deviceflow: cannot show the verification code: %w", err)
		}
		return nil
	}
}

var defaultVerification = printVerification(os.Stderr)
