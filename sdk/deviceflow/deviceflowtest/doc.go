// Package deviceflowtest is a local stand-in for GitHub's OAuth device flow
// (RFC 8628 as github.com and GitHub Enterprise Server run it).
//
// It is a real HTTP server that answers the same endpoints, with the same
// parameters, error codes and response encodings as GitHub:
//
//	POST /login/device/code          device and user codes
//	POST /login/oauth/access_token   device-code grant and refresh-token grant
//	GET  /login/device               the page where a person enters the user code
//	POST /login/device               that page's form
//	GET  /user                       the API, when the Host starts with "api." (github.com style)
//	GET  /api/v3/user                the API on any host (GitHub Enterprise Server style)
//	GET  /user/repos, /api/v3/user/repos  three fixed repositories of the token's user
//
// Start one for a test with NewServer (or New and Start), point a client at
// URL, and drive the person's side either through the web page or with
// Approve and Deny:
//
//	emu := deviceflowtest.NewServer(deviceflowtest.Config{Interval: 50 * time.Millisecond})
//	defer emu.Close()
//	// ... the client under test asks emu.URL()+"/login/device/code" for a code ...
//	g, _ := emu.LastGrant()
//	emu.Approve(g.UserCode)
//
// # Behaviour worth knowing
//
// Responses are form-encoded (application/x-www-form-urlencoded) unless the
// request's Accept header asks for application/json (or application/xml), as
// GitHub does. Pending and error answers of the token endpoint are HTTP 200
// with error, error_description and error_uri. Errors of the device-code
// endpoint (unknown client, device_flow_disabled) are HTTP 400 by default, as
// github.com answers device_flow_disabled; Config.DeviceCodeErrorStatus
// changes that. Every response carries a Date header taken from the
// emulator's clock (Config.Now).
//
// Polling the token endpoint sooner than the device code's current interval
// after the previous poll (or, for the first poll, after the code was issued)
// answers slow_down with an interval field five seconds larger than before,
// and that larger interval holds for every later poll of the code; GitHub
// answers slow_down even once the person has approved, so the emulator does
// too. Config.PollTolerance forgives polls that arrive slightly early, for
// clients that poll on a fixed ticker, as golang.org/x/oauth2 does. A
// device code that has been exchanged for a token once answers
// incorrect_device_code afterwards. A code the person cancelled answers
// access_denied until it expires; an expired code answers expired_token.
//
// GitHub App clients with expiring tokens (Client.ExpiringTokens) receive a
// ghu_ access token with expires_in, and a ghr_ refresh token with
// refresh_token_expires_in. The refresh-token grant needs only client_id and
// refresh_token; it returns a new pair, and the refresh token used and the
// access token it belonged to stop working at once. A refresh token that is
// unknown, used, expired or issued to another client answers
// bad_refresh_token.
//
// # The web page
//
// GET /login/device shows a form (id "device-form") that posts to
// /login/device with these stable names:
//
//	input  name="user_code" id="user_code"   the code, with or without the dash, any case
//	button name="action" value="authorize" id="authorize"
//	button name="action" value="cancel"    id="cancel"
//
// Unlike github.com, which asks for the code and then for the authorization
// on a second page, the emulator takes both on one form.
// GET /login/device?user_code=XXXX-XXXX fills the code in. The answer page
// has an element with id "result" whose data-result attribute is
// "authorized", "cancelled" or "invalid" (a code not recognised or expired).
//
// # Logging
//
// Config.Logger, when set, receives one line per request and per grant
// event. No line ever contains an access token, a refresh token or a device
// code: grants are named by their user code.
package deviceflowtest
