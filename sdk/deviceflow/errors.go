package deviceflow

import "github.com/deviceflow/deviceflow/host"

// Error is a failure reported by the plugin or the host: a Code, a message
// written for a person, and the server's OAuth error fields when there were
// any. It never holds a token. Use errors.Is with the sentinels below, or
// errors.As to read the fields.
type Error = host.Error

// Code is an error code, as in wit/deviceflow.wit.
type Code = host.Code

// The errors a call can end with, one per code. They are the host's own
// sentinels, so errors.Is(err, deviceflow.ErrAccessDenied) and
// errors.Is(err, host.ErrAccessDenied) are the same test.
var (
	// ErrExpiredToken: the device code expired before the person entered it.
	ErrExpiredToken = host.ErrExpiredToken
	// ErrAccessDenied: the person pressed Cancel on GitHub's page.
	ErrAccessDenied = host.ErrAccessDenied
	// ErrUnsupported: the app has the device flow disabled.
	ErrUnsupported = host.ErrUnsupported
	// ErrIncorrectClientCredentials: GitHub does not know the client id.
	ErrIncorrectClientCredentials = host.ErrIncorrectClientCredentials
	// ErrIncorrectDeviceCode: the server does not know the device code.
	ErrIncorrectDeviceCode = host.ErrIncorrectDeviceCode
	// ErrUnsupportedGrantType: the server refused the grant type.
	ErrUnsupportedGrantType = host.ErrUnsupportedGrantType
	// ErrBadRefreshToken: the refresh token was expired, revoked or used;
	// the cached entry has been removed, so the next Token signs in anew.
	ErrBadRefreshToken = host.ErrBadRefreshToken
	// ErrOAuth: the server answered an OAuth error the contract does not name.
	ErrOAuth = host.ErrOAuth
	// ErrNotFound: there is no cached token (Refresh, Check, WithCachedOnly).
	ErrNotFound = host.ErrNotFound
	// ErrCancelled: the context ended, or a callback returned an error.
	ErrCancelled = host.ErrCancelled
	// ErrNetwork: the server could not be reached or kept failing.
	ErrNetwork = host.ErrNetwork
	// ErrHTTPDenied: the sandbox refused a URL outside the allowed hosts.
	ErrHTTPDenied = host.ErrHTTPDenied
	// ErrStore: the token store failed.
	ErrStore = host.ErrStore
	// ErrInvalidInput: the configuration is wrong; the message names the field.
	ErrInvalidInput = host.ErrInvalidInput
	// ErrInvalidResponse: the server did not answer as GitHub does.
	ErrInvalidResponse = host.ErrInvalidResponse
	// ErrPlugin: the plugin itself failed (a trap or a memory limit).
	ErrPlugin = host.ErrPlugin
)

// cancelled is the error a caller gets when its own context ends while it
// waits for a shared call.
func cancelled(cause error) error {
	return &Error{Code: ErrCancelled.Code, Message: "cancelled: " + cause.Error(), Cause: cause}
}
